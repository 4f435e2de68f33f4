// doc list, show, sign, issue, render.
#include <fstream>
#include <iostream>

#include "app/document_actions.h"
#include "app/documents.h"
#include "cli/common.h"

namespace mentorflow::cli {

namespace {

void PrintDocument(const DocumentRecord& d, const std::string& zone) {
  std::cout << E(d.Id()) << "  " << d.status << (d.intact ? "" : " (ALTERED: its text no longer matches its SHA-256)")
            << "  issued " << LocalTime(d.issued_at, zone) << "  " << E(d.title) << "\n";
  if (!d.erased_at.empty()) std::cout << "  text destroyed " << LocalTime(d.erased_at, zone) << " (its SHA-256 kept)\n";
  if (!d.redacted_at.empty())
    std::cout << "  a person it names was erased " << LocalTime(d.redacted_at, zone)
              << ": their data replaced, the rest kept\n";
  if (!d.number.empty()) std::cout << "  lists: " << E(Join(d.items)) << "  (issued by " << E(d.issued_by) << ")\n";
  for (const auto& p : d.places)
    std::cout << "  " << E(p.as) << ": " << (p.person.empty() ? "-" : Titled(p.person, p.name))
              << (p.signed_at.empty() ? "  not signed"
                                      : "  signed " + LocalTime(p.signed_at, zone) + " by " +
                                            Titled(p.signed_by, p.signed_by_name) + " as " + E(p.capacity))
              << "\n";
}

struct Options {
  std::string doc, instance, format = "html", out, issue;
};

}  // namespace

void AddDocumentCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* doc = app.add_subcommand("doc", "Documents: list, show, render, sign, issue");
  doc->require_subcommand(1);
  doc->fallthrough();
  auto* sign = doc->add_subcommand(
      "sign", "Sign a document: DOC is INSTANCE:NAME (its latest issue), INSTANCE:NAME:ISSUE, or an order N/YYYY");
  sign->add_option("DOC", o->doc, "INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or N/YYYY, e.g. 3/2026")->required();
  auto* issue = doc->add_subcommand(
      "issue", "Issue a collective document (an order listing every instance that awaits it), numbered N/YYYY");
  issue->add_option("NAME", o->issue, "The collective document or its template, e.g. order_assign_pairs")->required();
  auto* list = doc->add_subcommand("list", "Every issued document, or those of one instance");
  list->add_option("INSTANCE", o->instance, "Only this instance's documents");
  auto* show = doc->add_subcommand("show", "One document: its status, hash and signers");
  show->add_option("DOC", o->doc, "INSTANCE:NAME[:ISSUE] or N/YYYY")->required();
  auto* render = doc->add_subcommand("render", "A document to print and sign: HTML, ODT or PDF");
  render->add_option("DOC", o->doc, "INSTANCE:NAME[:ISSUE] or N/YYYY")->required();
  render->add_option("--format", o->format, "html (default), odt, or pdf (needs LibreOffice)")
      ->check(CLI::IsMember({"html", "odt", "pdf"}));
  render->add_option("--out", o->out, "The file to write (html: standard output by default)");

  out->push_back({list, [&g, o] {
                    DbCommand cmd(g, false, true);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ListDocuments(ctx, o->instance);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::DocumentsJson(*r));
                    for (const auto& d : *r)
                      if (!g.json) PrintDocument(d, cmd.zone);
                    if (!g.json && r->empty()) std::cout << "no documents\n";
                    return 0;
                  }});
  out->push_back({show, [&g, o] {
                    DbCommand cmd(g, false, true);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ShowDocument(ctx, o->doc);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::DocumentJson(*r));
                    else PrintDocument(*r, cmd.zone);
                    return 0;
                  }});
  out->push_back({sign, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::SignDocument(ctx, o->doc);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::SignedJson(*r), -1);
                    else
                      std::cout << E(r->document) << ": " << r->status
                                << (r->approved.empty() ? std::string()
                                                        : "; " + std::to_string(r->approved.size()) +
                                                              " approved: " + E(Join(r->approved)))
                                << "\n";
                    return 0;
                  }});
  out->push_back({issue, [&g, o] {
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::IssueOrder(ctx, o->issue);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) PrintJson(app::DocumentJson(*r));
                    else std::cout << E(r->Id()) << " (" << r->items.size() << ": " << E(Join(r->items)) << ")\n";
                    return 0;
                  }});
  out->push_back({render, [&g, o] {
                    if (!app::IsOrderNumber(o->doc) && o->doc.find(':') == std::string::npos)
                      return Fail(g, 1, "DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or an order N/YYYY");
                    if (o->format != "html" && o->out.empty())
                      return Fail(g, 1, "--format " + o->format + " needs --out FILE");
                    DbCommand cmd(g);
                    if (!cmd.ok()) return cmd.code;
                    if (g.actor.empty()) return Fail(g, 1, "who acts? give --as PERSON_ID (or MENTORFLOW_ACTOR)");
                    if (!o->out.empty())
                      if (Status s = CheckPrivateTarget(o->out); !s.ok()) return cmd.Report(s);
                    auto ctx = cmd.Context();
                    auto r = app::RenderDocument(ctx, o->doc, o->format);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (o->out.empty()) {
                      std::cout << r->bytes;
                      return 0;
                    }
                    Status st = WritePrivateFile(o->out, [&](const std::string& tmp) {
                      std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
                      file << r->bytes;
                      file.flush();
                      return file ? Status::Ok() : Status::Internal("cannot write " + o->out + " (is the disk full?)");
                    });
                    if (!st.ok()) return cmd.Report(st);
                    if (g.json) PrintJson({{"document", r->document.Id()}, {"format", o->format}, {"out", o->out}});
                    else std::cout << o->out << "\n";
                    return 0;
                  }});
}

}  // namespace mentorflow::cli
