// tick, reminders, agenda, ack, deliver.
#include <iostream>

#include "app/agenda.h"
#include "app/codec.h"
#include "app/outbox.h"
#include "app/region.h"
#include "cli/common.h"

#include <unistd.h>

namespace mentorflow::cli {

namespace {

struct Options {
  Store::ReminderFilter filter;
  app::AgendaRequest agenda;
  std::string agenda_format = "text", via, ack;
  int tick_turn = 100, deliver_turn = 20;
};

// Without --institution-id on a database of several institutions, tick and
// deliver serve them all in rounds (app/region.h): 0 and the list, or the
// exit code of a failure to read it; -1 and nothing for one institution.
int RegionOf(const Globals& g, std::unique_ptr<Store>* store) {
  if (!g.institution.empty()) return -1;
  Status st;
  *store = Store::Open(g.db, &st, StoreOptions{g.templates, false, ""});
  if (!*store) return Fail(g, st.exit_code(), st.message());
  std::vector<std::string> all;
  if (Status s = (*store)->Institutions(&all); !s.ok()) return Report(g, s);
  return app::IsRegion(all, g.db) ? 0 : -1;
}

// Turn after turn, with what each fired or sent, under its institution.
int RegionTick(const Globals& g, Store& store, int per_turn) {
  auto r = app::TickRegion(store, g.now, per_turn, static_cast<std::size_t>(getpid()));
  if (!r.ok()) return Report(g, r.status());
  if (g.json) {
    PrintJson(app::RegionTickJson(*r));
    return r->status.exit_code();
  }
  std::size_t fired = 0;
  long long due = 0;
  for (const auto& t : r->turns) {
    for (const auto& f : t.tick.fired)
      std::cout << E(t.institution) << ": " << f.at << "  " << E(f.workflow) << " " << E(f.instance) << ": "
                << E(f.event) << " (due " << f.due << ") "
                << (f.refused ? "refused: " + E(f.reason) : E(f.from) + " -> " + E(f.to)) << "\n";
    fired += t.tick.fired.size();
    due += t.tick.reminders_due;
    for (const auto& f : t.tick.failed)
      std::cerr << "mentorflow: " << E(t.institution) << ": the deadline '" << E(f.event) << "' of instance "
                << E(f.instance) << " (due " << f.due << ") failed and was undone; it fires at the next tick: "
                << E(f.error) << "\n";
    if (!t.status.ok()) std::cerr << "mentorflow: " << E(t.institution) << ": " << t.status.message() << "\n";
  }
  std::cout << fired << " deadline(s) fired, " << due << " reminder(s) came due, in " << r->rounds
            << " round(s) over the institutions\n";
  return r->status.exit_code();
}

int RegionDeliver(const Globals& g, Store& store, const std::string& via, int per_turn) {
  auto r = app::DeliverRegion(store, via, g.now, per_turn, static_cast<std::size_t>(getpid()));
  if (!r.ok()) return Report(g, r.status());
  if (g.json) {
    PrintJson(app::RegionDeliveryJson(*r));
    return r->status.exit_code();
  }
  long long sent = 0, failed = 0, dead = 0;
  for (const auto& t : r->turns) {
    for (const auto& l : t.delivery.report.lines)
      std::cout << E(t.institution) << ": " << l.id << "\t" << E(l.to) << "\t" << l.status
                << (l.error.empty() ? "" : "\t" + E(l.error)) << "\n";
    sent += t.delivery.report.sent, failed += t.delivery.report.failed, dead += t.delivery.report.dead;
    if (!t.status.ok()) std::cerr << "mentorflow: " << E(t.institution) << ": " << t.status.message() << "\n";
  }
  std::cout << sent << " sent, " << failed << " failed (retried later), " << dead << " dead, in " << r->rounds
            << " round(s) over the institutions\n";
  return r->status.exit_code();
}

int Tick(const Globals& g, const Options& o) {
  {
    std::unique_ptr<Store> store;
    if (int region = RegionOf(g, &store); region >= 0) return region > 0 ? region : RegionTick(g, *store, o.tick_turn);
  }
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::Tick(ctx);
  if (!r.ok()) return cmd.Report(r.status());
  const Store::TickReport& report = *r;
  if (g.json) {
    PrintJson(app::TickJson(report, cmd.now.today));
  } else {
    for (const auto& f : report.fired)
      std::cout << LocalTime(f.at, cmd.zone) << "  " << E(f.workflow) << " " << E(f.instance) << ": " << E(f.event)
                << " (due " << f.due << ") " << (f.refused ? "refused: " + E(f.reason) : E(f.from) + " -> " + E(f.to))
                << "\n";
    std::cout << report.fired.size() << " deadline(s) fired, " << report.reminders_due << " reminder(s) came due\n";
  }
  for (const auto& f : report.failed)
    std::cerr << "mentorflow: the deadline '" << E(f.event) << "' of instance " << E(f.instance) << " (due " << f.due
              << ") failed and was undone; it fires at the next tick: " << E(f.error) << "\n";
  if (!report.unreadable.empty())
    std::cerr << "mentorflow: the deadlines of instance(s) " << E(Join(report.unreadable))
              << " did not fire: their stored state or fields are not what their workflow knows (see the log);"
                 " the rest fired\n";
  return report.unreadable.empty() && report.failed.empty() ? 0 : 5;
}

int Reminders(const Globals& g, const Options& o) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::Reminders(ctx, o.filter);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) {
    PrintJson(app::RemindersJson(*r));
    return 0;
  }
  for (const auto& x : *r)
    std::cout << x.id << "\t" << x.on << "\t" << x.status << (x.tries ? " (" + std::to_string(x.tries) + " tries)" : "")
              << "\t" << x.kind << "\t" << Titled(x.to, x.to_name) << "\t" << E(x.workflow) << " " << E(x.instance)
              << "\t" << E(x.subject) << "\n";
  if (r->empty()) std::cout << "no reminders\n";
  return 0;
}

int Agenda(const Globals& g, const Options& o) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  const std::string fmt = g.json ? "json" : o.agenda_format;
  if (fmt == "ics") {
    auto ics = app::AgendaCalendar(ctx, o.agenda);
    if (!ics.ok()) return cmd.Report(ics.status());
    std::cout << *ics;
    return 0;
  }
  auto r = app::Agenda(ctx, o.agenda);
  if (!r.ok()) return cmd.Report(r.status());
  if (fmt == "json") {
    PrintJson(app::AgendaJson(*r));
    return 0;
  }
  for (const auto& d : r->deadlines) {
    if (!d.item_id.empty())  // a list record on its own date (a plan's item)
      std::cout << d.due << "  item      " << Titled(d.workflow, d.workflow_title) << " " << E(d.instance) << " #"
                << E(d.item_id) << ": " << E(d.item_title) << "\n";
    else
      std::cout << d.due << "  deadline  " << Titled(d.workflow, d.workflow_title) << " " << E(d.instance) << " ("
                << Titled(d.state, d.state_title) << "): " << E(d.event) << "\n";
    for (const auto& x : r->reminders)
      if (ReminderBelongsTo(x, d))
        std::cout << "  " << x.on << "  reminder to " << Titled(x.to, x.to_name) << ": " << E(x.subject) << "\n";
  }
  for (const auto& x : r->reminders)
    if (x.deadline.empty()) std::cout << x.on << "  notice to " << Titled(x.to, x.to_name) << ": " << E(x.subject) << "\n";
  if (r->deadlines.empty() && r->reminders.empty())
    std::cout << "nothing due from " << FormatDate(r->from) << " to " << FormatDate(r->to) << "\n";
  return 0;
}

int Deliver(const Globals& g, const Options& o) {
  {
    std::unique_ptr<Store> store;
    if (int region = RegionOf(g, &store); region >= 0)
      return region > 0 ? region : RegionDeliver(g, *store, o.via, o.deliver_turn);
  }
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::Deliver(ctx, o.via);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) {
    PrintJson(app::DeliveryJson(*r));
  } else {
    for (const auto& l : r->report.lines)
      std::cout << l.id << "\t" << E(l.to) << "\t" << l.status << (l.error.empty() ? "" : "\t" + E(l.error)) << "\n";
    std::cout << r->report.sent << " sent, " << r->report.failed << " failed (retried later), " << r->report.dead
              << " dead\n";
    if (!r->status.ok()) std::cerr << "mentorflow: " << r->status.message() << "\n";
  }
  return r->status.exit_code();
}

int Ack(const Globals& g, const Options& o) {
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  if (Status s = app::NeedActor(ctx); !s.ok()) return cmd.Report(s);
  const std::string& id = o.ack;
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return Fail(g, 1, "REMINDER is a reminder's number, got '" + id + "'");
  if (Status s = app::Ack(ctx, std::stoll(id)); !s.ok()) return cmd.Report(s);
  if (g.json) PrintJson({{"id", std::stoll(id)}, {"status", "acknowledged"}}, -1);
  else std::cout << id << ": acknowledged\n";
  return 0;
}

}  // namespace

void AddOutboxCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* tick = app.add_subcommand("tick", "Fire every deadline and reminder due at --now; safe to repeat and to run twice at once");
  auto* reminders = app.add_subcommand("reminders", "The outbox: reminders that have come due, with their delivery status");
  reminders->add_option("--status", o->filter.status,
                        "Only this status: scheduled, pending, sent, acknowledged, failed, retried, dead, cancelled");
  reminders->add_option("--for", o->filter.person, "Only those to this person");
  reminders->add_option("--instance", o->filter.instance, "Only those about this instance");
  auto* agenda = app.add_subcommand("agenda", "What is coming: deadlines and scheduled reminders (text, json, or an iCalendar file)");
  agenda->add_option("--for", o->agenda.person, "Only what concerns this person");
  agenda->add_option("--from", o->agenda.from, "From this day, YYYY-MM-DD (default: today)");
  agenda->add_option("--to", o->agenda.to, "To this day, YYYY-MM-DD (default: a year from today)");
  agenda->add_option("--format", o->agenda_format, "text, json or ics")->check(CLI::IsMember({"text", "json", "ics"}));
  auto* deliver = app.add_subcommand("deliver", "Hand every pending reminder to a channel and mark it sent");
  deliver->add_option("--via", o->via, "jsonl:PATH or smtp://HOST[:PORT]")->required();
  tick->add_option("--per-turn", o->tick_turn,
                   "Over several institutions: at most this many deadlines of one before the next has its turn")
      ->check(CLI::Range(1, 100000));
  deliver->add_option("--per-turn", o->deliver_turn,
                      "Over several institutions: at most this many reminders of one before the next has its turn")
      ->check(CLI::Range(1, 100000));
  auto* ack = app.add_subcommand("ack", "Acknowledge a reminder (its recipient, a curator or the director)");
  ack->add_option("REMINDER", o->ack, "The reminder's number (see 'reminders')")->required();
  out->push_back({tick, [&g, o] { return Tick(g, *o); }});
  out->push_back({reminders, [&g, o] { return Reminders(g, *o); }});
  out->push_back({agenda, [&g, o] { return Agenda(g, *o); }});
  out->push_back({deliver, [&g, o] { return Deliver(g, *o); }});
  out->push_back({ack, [&g, o] { return Ack(g, *o); }});
}

}  // namespace mentorflow::cli
