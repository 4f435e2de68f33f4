#include "app/instances.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace mentorflow::app {

using nlohmann::json;

Status NeedActor(const Context& ctx) {
  if (!ctx.actor.empty()) return Status::Ok();
  return Status::BadInput("who acts? give --as PERSON_ID (or MENTORFLOW_ACTOR)");
}

Status ResolveNow(const std::string& fixed, const std::string& zone, Now* now) {
  if (!IsKnownZone(zone)) return Status::BadInput("unknown time zone '" + zone + "'");
  if (fixed.empty()) {
    auto t = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    *now = Now::At(Instant{t.time_since_epoch()}, zone);
    return Status::Ok();
  }
  auto t = ParseLocalTime(fixed, zone);
  if (!t) return Status::BadInput("--now: '" + fixed + "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM (years 1900 to 2200)");
  *now = Now::At(*t, zone);
  return Status::Ok();
}

namespace {

// The rule of a refusal travels in the Status, as for every other refusal.
Status WithRule(const Status& st, const Refusal& refusal) {
  if (st.ok() || refusal.rule.empty()) return st;
  return Status(st.code(), st.message(), refusal.rule).At(refusal.field);
}

std::string EnumTitle(const FieldDef& f, const std::string& value) {
  for (size_t i = 0; i < f.values.size() && i < f.value_titles.size(); ++i)
    if (f.values[i] == value) return f.value_titles[i];
  return "";
}

std::string StateTitle(const Definition* def, const std::string& state) {
  if (!def || state.empty()) return state;
  const int i = def->StateIndex(state);
  return i >= 0 && !def->states[i].title.empty() ? def->states[i].title : state;
}

}  // namespace

InstanceView ViewOf(Context& ctx, const InstanceRecord& rec) {
  InstanceView v;
  v.record = rec;
  v.workflow_title = rec.workflow;
  v.state_title = rec.state;
  const Definition* def = nullptr;
  if (!ctx.store.Workflow(rec.workflow, rec.workflow_version, &def).ok()) def = nullptr;
  if (def && !def->title.empty()) v.workflow_title = def->title;
  v.state_title = StateTitle(def, rec.state);
  const json fields = json::parse(rec.fields_json, nullptr, false);
  if (!fields.is_object()) {
    v.fields_readable = false;
    return v;
  }
  std::vector<std::string> people;
  auto add = [&](const std::string& name, const json& value, const FieldDef* f) {
    if (value.is_null()) return;
    FieldView fv{name, f && !f->title.empty() ? f->title : name,
                 value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, json::error_handler_t::replace),
                 "", f && f->type == FieldType::kPerson && value.is_string()};
    if (f && f->type == FieldType::kEnum && value.is_string()) fv.value_title = EnumTitle(*f, fv.text);
    if (fv.person) people.push_back(fv.text);
    v.fields.push_back(std::move(fv));
  };
  if (def) {
    for (const auto& f : def->fields)
      if (fields.contains(f.name)) add(f.name, fields[f.name], &f);
    for (auto it = fields.begin(); it != fields.end(); ++it)  // what the version no longer declares
      if (def->FieldIndex(it.key()) < 0) add(it.key(), it.value(), nullptr);
  } else {
    for (auto it = fields.begin(); it != fields.end(); ++it) add(it.key(), it.value(), nullptr);
  }
  std::map<std::string, std::string> names;
  if (!people.empty() && ctx.store.Names(people, &names).ok())
    for (auto& f : v.fields)
      if (auto it = names.find(f.text); f.person && it != names.end()) f.value_title = it->second;
  return v;
}

Result<InstanceView> StartInstance(Context& ctx, const StartRequest& r) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  InstanceRecord rec;
  Refusal refusal;
  Status st = ctx.store.Start(r.workflow, r.input, r.parent, ctx.actor, ctx.now, &rec, &refusal);
  if (!st.ok()) return WithRule(st, refusal);
  return ViewOf(ctx, rec);
}

Status MayTouch(Context& ctx, const std::string& instance) {
  Status read = ctx.store.AuthorizeRead({instance, {}, "", false}, ctx.actor, ctx.now);
  return read.code() == Code::kNotFound ? read : Status::Ok();
}

Result<InstanceView> SendEvent(Context& ctx, const SendRequest& r) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  // An instance one may not read is, to them, an instance that does not exist.
  if (Status s = MayTouch(ctx, r.instance); !s.ok()) return s;
  InstanceRecord rec;
  Refusal refusal;
  Status st = ctx.store.Send(r.instance, r.event, r.input, ctx.actor, ctx.now, &rec, &refusal);
  if (st.code() == Code::kConflict) {  // one retry on a concurrent change
    refusal = {};
    st = ctx.store.Send(r.instance, r.event, r.input, ctx.actor, ctx.now, &rec, &refusal);
  }
  if (!st.ok()) return WithRule(st, refusal);
  return ViewOf(ctx, rec);
}

Result<InstanceView> ShowInstance(Context& ctx, const std::string& id) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  if (Status s = ctx.store.AuthorizeRead({id, {}, "show " + id}, ctx.actor, ctx.now); !s.ok()) return s;
  InstanceRecord rec;
  if (Status s = ctx.store.Show(id, &rec); !s.ok()) return s;
  return ViewOf(ctx, rec);
}

Result<std::vector<InstanceView>> ListInstances(Context& ctx, const ListRequest& r) {
  std::vector<InstanceRecord> recs;
  if (Status s = ctx.store.List(r.workflow, r.state, &recs); !s.ok()) return s;
  std::vector<InstanceView> out;
  // Each listed instance is a recorded read; all of them in one commit.
  Status st = ctx.store.Together([&]() -> Status {
    for (const auto& rec : recs) {
      if (!ctx.actor.empty()) {
        Status read = ctx.store.AuthorizeRead({rec.id, {}, "list"}, ctx.actor, ctx.now);
        if (read.code() == Code::kNotFound || read.code() == Code::kRefused) continue;  // not theirs
        if (!read.ok()) return read;
      }
      out.push_back(ViewOf(ctx, rec));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<HistoryView> InstanceHistory(Context& ctx, const std::string& id) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  if (Status s = ctx.store.AuthorizeRead({id, {}, "history " + id}, ctx.actor, ctx.now); !s.ok()) return s;
  std::vector<HistoryRecord> hs;
  if (Status s = ctx.store.History(id, &hs); !s.ok()) return s;
  HistoryView out{id, {}};
  InstanceRecord rec;
  const Definition* def = nullptr;
  if (ctx.store.Show(id, &rec).ok() && !ctx.store.Workflow(rec.workflow, rec.workflow_version, &def).ok())
    def = nullptr;
  std::vector<std::string> actors;
  for (const auto& h : hs) actors.push_back(h.actor);
  std::map<std::string, std::string> names;
  if (!ctx.store.Names(actors, &names).ok()) names.clear();
  for (auto& h : hs) {
    HistoryEntryView e{h, "", StateTitle(def, h.from), StateTitle(def, h.to)};
    if (auto it = names.find(h.actor); it != names.end()) e.actor_name = it->second;
    out.entries.push_back(std::move(e));
  }
  return out;
}

}  // namespace mentorflow::app
