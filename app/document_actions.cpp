#include "app/document_actions.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/documents.h"
#include "app/instances.h"

namespace mentorflow::app {

namespace {

constexpr const char* kDocForm = "DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or an order N/YYYY";

// DOC is INSTANCE:NAME or INSTANCE:NAME:ISSUE.
bool SplitDocument(const std::string& doc, std::string* instance, std::string* rest) {
  auto colon = doc.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == doc.size()) return false;
  *instance = doc.substr(0, colon);
  *rest = doc.substr(colon + 1);
  return true;
}

bool OfPerson(const std::string& instance) { return instance == "consent" || instance == "act"; }

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Internal("cannot read the rendered document back");
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

}  // namespace

bool IsOrderNumber(const std::string& doc) {
  return doc.find(':') == std::string::npos && doc.find('/') != std::string::npos;
}

Result<std::vector<DocumentRecord>> ListDocuments(Context& ctx, const std::string& instance) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  if (Status s = ctx.store.AuthorizeRead({instance, {}, "doc list" + (instance.empty() ? "" : " " + instance)},
                                         ctx.actor, ctx.now);
      !s.ok())
    return s;
  std::vector<DocumentRecord> docs;
  if (Status s = ctx.store.Documents(instance, &docs); !s.ok()) return s;
  return docs;
}

Result<DocumentRecord> ShowDocument(Context& ctx, const std::string& doc) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  DocumentRecord d;
  std::string instance, rest;
  if (IsOrderNumber(doc)) {
    if (Status s = ctx.store.Order(doc, &d); !s.ok()) return s;
    if (Status s = ctx.store.RecordDocumentRead(d, ctx.actor, "show", ctx.now); !s.ok()) return s;
    return d;
  }
  if (!SplitDocument(doc, &instance, &rest)) return Status::BadInput(kDocForm);
  if (OfPerson(instance)) {
    if (Status s = ctx.store.Document(instance, rest, &d); !s.ok()) return s;
    if (Status s = ctx.store.RecordDocumentRead(d, ctx.actor, "show", ctx.now); !s.ok()) return s;
    return d;
  }
  // A stranger learns nothing from which documents exist: the instance's
  // read rule answers first.
  Status found = ctx.store.Document(instance, rest, &d);
  if (Status read = ctx.store.AuthorizeRead({instance, {}, found.ok() ? "doc show " + d.Id() : "", found.ok()},
                                            ctx.actor, ctx.now);
      !read.ok())
    return read;
  if (!found.ok()) return found;
  return d;
}

Result<Signed> SignDocument(Context& ctx, const std::string& doc) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  Signed out;
  out.document = doc;
  if (IsOrderNumber(doc)) {
    out.order = true;
    if (Status s = ctx.store.SignOrder(doc, ctx.actor, ctx.now, &out.status, &out.approved); !s.ok()) return s;
    return out;
  }
  std::string instance, rest;
  if (!SplitDocument(doc, &instance, &rest)) return Status::BadInput("DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement");
  if (Status s = MayTouch(ctx, instance); !s.ok()) return s;
  if (Status s = ctx.store.Sign(instance, rest, ctx.actor, ctx.now, &out.status); !s.ok()) return s;
  return out;
}

Result<DocumentRecord> IssueOrder(Context& ctx, const std::string& name) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  DocumentRecord d;
  if (Status s = ctx.store.IssueOrder(name, ctx.actor, ctx.now, &d); !s.ok()) return s;
  return d;
}

namespace {

// The document DOC read by the actor as `how` (html, odt, pdf, page): its
// record and printable text; the read is recorded once it is known to print.
Status Readable(Context& ctx, const std::string& doc, const std::string& how, DocumentRecord* out,
                PrintableDocument* printable) {
  std::string instance, rest;
  const bool order = IsOrderNumber(doc);
  if (!order && !SplitDocument(doc, &instance, &rest)) return Status::BadInput(kDocForm);
  if (Status s = NeedActor(ctx); !s.ok()) return s;  // who reads the personal data in it
  DocumentRecord& d = *out;
  const bool of_instance = !order && !OfPerson(instance);
  if (Status st = order ? ctx.store.Order(doc, &d) : ctx.store.Document(instance, rest, &d); !st.ok()) {
    if (of_instance)  // a stranger learns nothing from which documents an instance has
      if (Status read = ctx.store.AuthorizeRead({instance, {}, "", false}, ctx.actor, ctx.now); !read.ok()) return read;
    return st;
  }
  // The instance's read rule first; the read is recorded once the document
  // is known to print.
  if (of_instance)
    if (Status s = ctx.store.AuthorizeRead({instance, {}, "", false}, ctx.actor, ctx.now); !s.ok()) return s;
  std::string institution;
  ctx.store.GetSetting("institution", &institution);
  if (Status s = Printable(ctx.templates, institution, ctx.zone, d, printable); !s.ok()) return s;
  return of_instance ? ctx.store.AuthorizeRead({instance, {}, "doc render " + d.Id() + " (" + how + ")"}, ctx.actor,
                                               ctx.now)
                     : ctx.store.RecordDocumentRead(d, ctx.actor, how, ctx.now);
}

}  // namespace

Result<DocumentPage> ReadDocument(Context& ctx, const std::string& doc) {
  DocumentPage out;
  if (Status s = Readable(ctx, doc, "page", &out.document, &out.printable); !s.ok()) return s;
  return out;
}

Result<Rendered> RenderDocument(Context& ctx, const std::string& doc, const std::string& format) {
  if (format != "html" && format != "odt" && format != "pdf")
    return Status::BadInput("format: html, odt or pdf, got '" + format + "'");
  Rendered out;
  out.format = format;
  DocumentRecord& d = out.document;
  PrintableDocument printable;
  if (Status s = Readable(ctx, doc, format, &d, &printable); !s.ok()) return s;
  std::string stem = d.number.empty() ? d.name + "-" + std::to_string(d.issue) : "order-" + d.number;
  for (char& c : stem)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) c = '-';
  out.filename = stem + "." + format;
  if (format == "html") {
    out.content_type = "text/html; charset=utf-8";
    if (Status s = HtmlPage(printable, &out.bytes); !s.ok()) return s;
    return out;
  }
  out.content_type = format == "odt" ? "application/vnd.oasis.opendocument.text" : "application/pdf";
  char dir_template[] = "/tmp/mentorflow-render-XXXXXX";
  if (!::mkdtemp(dir_template)) return Status::Internal("cannot make a temporary directory");
  const std::string dir = dir_template;
  const std::string odt = dir + "/document.odt", pdf = dir + "/document.pdf";
  Status st = WriteOdt(printable, odt);
  if (st.ok() && format == "pdf") st = ConvertToPdf(odt, pdf);
  if (st.ok()) st = ReadFile(format == "odt" ? odt : pdf, &out.bytes);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!st.ok()) return st;
  return out;
}

}  // namespace mentorflow::app
