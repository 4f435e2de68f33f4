#include "app/outbox.h"

#include "app/agenda.h"

namespace mentorflow::app {

Result<Store::TickReport> Tick(Context& ctx) {
  Store::TickReport report;
  Status st = ctx.store.Tick(ctx.now, &report);
  if (st.code() == Code::kConflict) {  // a user changed an instance meanwhile: go on from where it stopped
    Store::TickReport more;
    st = ctx.store.Tick(ctx.now, &more);
    for (auto& f : more.fired) report.fired.push_back(std::move(f));
    report.reminders_due += more.reminders_due;
    report.unreadable = std::move(more.unreadable);
  }
  if (!st.ok()) return st;
  return report;
}

Result<std::vector<ReminderRecord>> Reminders(Context& ctx, const Store::ReminderFilter& filter) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  std::vector<ReminderRecord> rs;
  if (Status s = ctx.store.Reminders(filter, &rs); !s.ok()) return s;
  Store::ReadScope scope{filter.instance, {}, "reminders"};
  if (!filter.person.empty()) scope.people.push_back(filter.person);
  else if (filter.instance.empty())
    for (const auto& r : rs) scope.people.push_back(r.to);
  if (Status s = ctx.store.AuthorizeRead(scope, ctx.actor, ctx.now); !s.ok()) return s;
  return rs;
}

namespace {

Status Period(const Context& ctx, const AgendaRequest& r, Date* from, Date* to) {
  *from = ctx.now.today;
  *to = ctx.now.today + date::days{365};
  if (!r.from.empty()) {
    auto d = ParseDate(r.from);
    if (!d) return Status::BadInput("--from: '" + r.from + "' is not YYYY-MM-DD");
    *from = *d;
  }
  if (!r.to.empty()) {
    auto d = ParseDate(r.to);
    if (!d) return Status::BadInput("--to: '" + r.to + "' is not YYYY-MM-DD");
    *to = *d;
  }
  if (*to < *from) return Status::BadInput("--to is before --from");
  return Status::Ok();
}

Status AuthorizeAgenda(Context& ctx, const AgendaRequest& r) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.AuthorizeRead(
      {"", r.person.empty() ? std::vector<std::string>{} : std::vector<std::string>{r.person}, "agenda"}, ctx.actor,
      ctx.now);
}

}  // namespace

Result<AgendaView> Agenda(Context& ctx, const AgendaRequest& r) {
  AgendaView out;
  if (Status s = Period(ctx, r, &out.from, &out.to); !s.ok()) return s;
  if (Status s = AuthorizeAgenda(ctx, r); !s.ok()) return s;
  if (Status s = ctx.store.Agenda(r.person, out.from, out.to, &out.deadlines, &out.reminders); !s.ok()) return s;
  return out;
}

Result<std::string> AgendaCalendar(Context& ctx, const AgendaRequest& r) {
  Date from, to;
  if (Status s = Period(ctx, r, &from, &to); !s.ok()) return s;
  if (Status s = AuthorizeAgenda(ctx, r); !s.ok()) return s;
  std::string ics;
  if (Status s = AgendaIcs(ctx.store, r.person, from, to, ctx.now.instant, &ics); !s.ok()) return s;
  return ics;
}

Status Ack(Context& ctx, long long reminder) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.Ack(reminder, ctx.actor, ctx.now);
}

Result<Delivery> Deliver(Context& ctx, const std::string& via) {
  SmtpOptions smtp;
  if (Status s = SmtpOptionsFromSettings(ctx.store, &smtp); !s.ok()) return s;
  std::unique_ptr<Channel> channel;
  if (Status s = OpenChannel(via, smtp, &channel); !s.ok()) return s;
  Delivery out;
  out.status = DeliverPending(ctx.store, *channel, ctx.now, &out.report);
  out.via = channel->Describe();
  return out;
}

}  // namespace mentorflow::app
