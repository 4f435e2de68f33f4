// start, send, show, list, history.
#include <iostream>

#include "app/instances.h"
#include "cli/common.h"

namespace mentorflow::cli {

namespace {

Status ParseSets(const std::vector<std::string>& sets, Input* in) {
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Status::BadInput("--set expects KEY=VALUE, got '" + kv + "'");
    in->push_back({kv.substr(0, eq), kv.substr(eq + 1)});
  }
  return Status::Ok();
}

void PrintFields(const app::InstanceView& v) {
  if (!v.fields_readable) {
    std::cout << "  fields (not readable): " << E(v.record.fields_json) << "\n";
    return;
  }
  for (const auto& f : v.fields)
    std::cout << "  " << Titled(f.name, f.title) << ": " << Titled(f.text, f.value_title) << "\n";
}

// Who an instance names, as `list` shows it: "mentor: m1 «Анна Смирнова», ...".
std::string People(const app::InstanceView& v) {
  std::string out;
  for (const auto& f : v.fields)
    if (f.person) out += (out.empty() ? "" : ", ") + E(f.name) + ": " + Titled(f.text, f.value_title);
  return out;
}

struct Options {
  std::string workflow, parent, id, event, list_workflow, list_state;
  std::vector<std::string> sets;
};

}  // namespace

void AddInstanceCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* start = app.add_subcommand("start", "Start an instance of a workflow; prints its id");
  start->add_option("WORKFLOW", o->workflow, "Workflow name")->required();
  start->add_option("--set", o->sets, "KEY=VALUE, parsed by the field's type (repeat)");
  start->add_option("--parent", o->parent, "The parent instance id");
  auto* send = app.add_subcommand("send", "Send one event to an instance; prints the new state");
  send->add_option("ID", o->id, "Instance id")->required();
  send->add_option("EVENT", o->event, "Event name")->required();
  send->add_option("--set", o->sets, "KEY=VALUE, the event's input (repeat)");
  auto* show = app.add_subcommand("show", "Show an instance");
  show->add_option("ID", o->id, "Instance id")->required();
  auto* list = app.add_subcommand("list", "List instances (with --as: those this person may read)");
  list->add_option("--workflow", o->list_workflow, "Only this workflow");
  list->add_option("--state", o->list_state, "Only this state");
  auto* history = app.add_subcommand("history", "The history of an instance");
  history->add_option("ID", o->id, "Instance id")->required();

  auto start_or_send = [&g, o](bool starting) {
    DbCommand cmd(g);
    if (!cmd.ok()) return cmd.code;
    Input in;
    if (Status s = ParseSets(o->sets, &in); !s.ok()) return Fail(g, 1, s.message());
    auto ctx = cmd.Context();
    auto r = starting ? app::StartInstance(ctx, {o->workflow, in, o->parent})
                      : app::SendEvent(ctx, {o->id, o->event, in});
    if (!r.ok()) return cmd.Report(r.status());
    if (g.json) PrintJson(app::InstanceJson(*r));
    else std::cout << (starting ? E(r->record.id) : Titled(r->record.state, r->state_title)) << "\n";
    return 0;
  };
  out->push_back({start, [start_or_send] { return start_or_send(true); }});
  out->push_back({send, [start_or_send] { return start_or_send(false); }});

  out->push_back({show, [&g, o] {
                    DbCommand cmd(g, false, true);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ShowInstance(ctx, o->id);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) {
                      PrintJson(app::InstanceJson(*r));
                      return 0;
                    }
                    const auto& rec = r->record;
                    std::cout << "id: " << E(rec.id) << "\nworkflow: " << E(rec.workflow) << " v"
                              << rec.workflow_version << (r->workflow_title != rec.workflow ? " «" + E(r->workflow_title) + "»" : "")
                              << "\nstate: " << Titled(rec.state, r->state_title) << "\n";
                    if (!rec.parent.empty()) std::cout << "parent: " << E(rec.parent) << "\n";
                    std::cout << "updated: " << LocalTime(rec.updated, cmd.zone) << "\n";
                    PrintFields(*r);
                    return 0;
                  }});

  out->push_back({list, [&g, o] {
                    DbCommand cmd(g, false, true);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::ListInstances(ctx, {o->list_workflow, o->list_state});
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) {
                      PrintJson(app::InstancesJson(*r));
                      return 0;
                    }
                    for (const auto& v : *r) {
                      const std::string people = People(v);
                      std::cout << E(v.record.id) << "\t" << E(v.record.workflow) << "\t"
                                << Titled(v.record.state, v.state_title) << (people.empty() ? "" : "\t" + people)
                                << "\n";
                    }
                    return 0;
                  }});

  out->push_back({history, [&g, o] {
                    DbCommand cmd(g, false, true);
                    if (!cmd.ok()) return cmd.code;
                    auto ctx = cmd.Context();
                    auto r = app::InstanceHistory(ctx, o->id);
                    if (!r.ok()) return cmd.Report(r.status());
                    if (g.json) {
                      PrintJson(app::HistoryJson(*r));
                      return 0;
                    }
                    int version = 0;
                    for (const auto& e : r->entries) {
                      const HistoryRecord& h = e.entry;
                      std::cout << h.seq << "  " << LocalTime(h.at, cmd.zone) << "  " << Titled(h.actor, e.actor_name)
                                << " (" << E(h.role) << ")  " << E(h.event) << ": "
                                << (h.from.empty() ? "-" : Titled(h.from, e.from_title)) << " -> "
                                << Titled(h.to, e.to_title);
                      if (version != 0 && h.workflow_version != version)
                        std::cout << "  [v" << version << " -> v" << h.workflow_version << "]";
                      if (!h.note.empty()) std::cout << "  (" << E(h.note) << ")";
                      std::cout << "\n";
                      version = h.workflow_version;
                    }
                    return 0;
                  }});
}

}  // namespace mentorflow::cli
