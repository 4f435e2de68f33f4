#include "app/people.h"

#include "app/instances.h"

namespace mentorflow::app {

Status AddPerson(Context& ctx, const PersonRecord& person) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.AddPerson(person, ctx.actor, ctx.now);
}

Status UpdatePerson(Context& ctx, const PersonUpdate& update) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.UpdatePerson(update, ctx.actor, ctx.now);
}

Result<PersonRecord> ReadPerson(Context& ctx, const std::string& id) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  PersonRecord p;
  if (Status s = ctx.store.ReadPerson(id, ctx.actor, ctx.now, &p); !s.ok()) return s;
  return p;
}

Result<std::string> ExportPerson(Context& ctx, const std::string& id) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  std::string text;
  if (Status s = ctx.store.ExportPerson(id, ctx.actor, ctx.now, &text); !s.ok()) return s;
  return text;
}

Result<InstanceView> RequestInformation(Context& ctx, const std::string& id, const std::string& kind,
                                        const std::string& text) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  InstanceRecord rec;
  if (Status s = ctx.store.RequestInformation(id, ctx.actor, ctx.now, &rec, kind, text); !s.ok()) return s;
  return ViewOf(ctx, rec);
}

Result<DocumentRecord> ErasePerson(Context& ctx, const std::string& id) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  DocumentRecord act;
  if (Status s = ctx.store.ErasePerson(id, ctx.actor, ctx.now, &act); !s.ok()) return s;
  return act;
}

Result<std::vector<Store::PersonSummary>> ListPeople(Context& ctx, const Store::PeopleFilter& filter) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  // Everyone's records: the read rule of an office (a curator, the director).
  if (Status s = ctx.store.AuthorizeRead({"", {}, "", false}, ctx.actor, ctx.now); !s.ok()) return s;
  std::vector<Store::PersonSummary> out;
  if (Status s = ctx.store.People(filter, &out); !s.ok()) return s;
  return out;
}

Result<ConsentChoices> ConsentChoicesFor(Context& ctx, const std::string& person, const std::string& purpose) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  ConsentChoices out;
  std::string capacity;
  Status give = ctx.store.MayChangeConsentNow(person, true, ctx.actor, ctx.now, &capacity, purpose);
  if (give.code() == Code::kNotFound || give.code() == Code::kInternal || give.code() == Code::kBadInput) return give;
  if (give.ok()) out.give = capacity;
  out.revoke = ctx.store.MayChangeConsentNow(person, false, ctx.actor, ctx.now, &capacity, purpose).ok();
  std::vector<Store::PurposeConsent> all;
  if (ctx.store.ConsentsOf(person, &all).ok())
    for (const auto& c : all)
      if (c.purpose == purpose) out.awaiting = c.status == "partly_signed";
  if (!out.give.empty() && out.give != "curator" && !out.awaiting)
    if (Status s = ctx.store.ConsentMissing(person, ctx.now, &out.missing); !s.ok()) return s;
  return out;
}

Result<std::string> ConsentPreview(Context& ctx, const std::string& person, const std::string& purpose) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  std::string text;
  if (Status s = ctx.store.ConsentPreview(person, ctx.actor, ctx.now, &text, purpose); !s.ok()) return s;
  return text;
}

Result<std::vector<Store::PurposeConsent>> ConsentsOf(Context& ctx, const std::string& person) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  PersonRecord p;
  if (Status s = ctx.store.ReadPerson(person, ctx.actor, ctx.now, &p); !s.ok()) return s;
  std::vector<Store::PurposeConsent> out;
  if (Status s = ctx.store.ConsentsOf(person, &out); !s.ok()) return s;
  return out;
}

Status SetConsent(Context& ctx, const ConsentRequest& r) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.SetConsent(r.person, r.given, ctx.actor, ctx.now, r.paper_date, r.purpose);
}

}  // namespace mentorflow::app
