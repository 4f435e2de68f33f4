#include "app/actions.h"

#include <algorithm>
#include <map>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "app/instances.h"
#include "app/outbox.h"

namespace mentorflow::app {

namespace {

// A curator or the director, who reads everyone's records, may pick people
// from a list; others type an id.
bool MayListPeople(Context& ctx) { return ctx.store.AuthorizeRead({"", {}, "", false}, ctx.actor, ctx.now).ok(); }

InputView InputOf(Context& ctx, const FieldDef& f, bool required, bool list_people) {
  InputView in{f.name, f.title.empty() ? f.name : f.title, std::string(FieldTypeName(f.type)), required, "", "", {}, ""};
  if (f.min) in.min = std::to_string(*f.min);
  if (f.max) in.max = std::to_string(*f.max);
  if (f.type == FieldType::kEnum)
    for (size_t i = 0; i < f.values.size(); ++i)
      in.options.push_back({f.values[i], i < f.value_titles.size() && !f.value_titles[i].empty() ? f.value_titles[i]
                                                                                                  : f.values[i]});
  if (f.type == FieldType::kPerson && list_people) {
    std::vector<Store::PersonSummary> people;
    Store::PeopleFilter filter;
    filter.role = f.role;
    if (ctx.store.People(filter, &people).ok())
      for (const auto& p : people) in.options.push_back({p.id, p.name.empty() ? p.id : p.name});
  }
  if (!IsSet(f.default_value)) return in;
  in.value = ValueToString(f.default_value);
  return in;
}

// The records of a list field (as stored: [{"id": ..., FIELD: ...}]), as an
// `item` input's options: "№id — the first text field".
InputView ItemInput(const FieldDef& list, const nlohmann::json& stored) {
  InputView in{"id", list.title.empty() ? list.name : list.title, "item", true, "", "", {}, ""};
  if (!stored.is_array()) return in;
  std::string label;
  for (const auto& f : list.item_fields)
    if (f.type == FieldType::kString && label.empty()) label = f.name;
  for (const auto& item : stored) {
    if (!item.is_object() || !item.contains("id")) continue;
    const auto& id = item["id"];
    const std::string key = id.is_string() ? id.get<std::string>() : id.dump();
    std::string text = "№" + key;
    if (!label.empty() && item.contains(label) && item[label].is_string()) text += " — " + item[label].get<std::string>();
    in.options.push_back({key, text});
  }
  return in;
}

EventView EventOf(Context& ctx, const Definition& def, const TransitionDef& t, const nlohmann::json& fields,
                  bool list_people) {
  EventView e{t.event, t.title.empty() ? t.event : t.title, {}, t.append_list >= 0};
  const int li = t.append_list >= 0 ? t.append_list : t.update_list;
  if (li >= 0) {
    const FieldDef& list = def.fields[li];
    if (t.update_list >= 0)
      e.inputs.push_back(ItemInput(list, fields.is_object() && fields.contains(list.name) ? fields[list.name]
                                                                                         : nlohmann::json()));
    for (size_t k = 0; k < list.item_fields.size(); ++k) {
      const bool fixed = std::any_of(t.item_set.begin(), t.item_set.end(),
                                     [&](const auto& s) { return s.first == static_cast<int>(k); });
      if (fixed) continue;
      const FieldDef& f = list.item_fields[k];
      InputView in = InputOf(ctx, f, t.append_list >= 0 && f.required, list_people);
      if (t.update_list >= 0) in.value.clear();  // a change names only what changes
      e.inputs.push_back(std::move(in));
    }
    return e;
  }
  for (const auto& in : t.input) e.inputs.push_back(InputOf(ctx, def.fields[in.field], in.required, list_people));
  return e;
}

Result<std::vector<EventView>> OffersOf(Context& ctx, const InstanceRecord& rec, bool list_people) {
  const Definition* def = nullptr;
  if (Status s = ctx.store.Workflow(rec.workflow, rec.workflow_version, &def); !s.ok()) return s;
  std::vector<int> transitions;
  if (Status s = ctx.store.Offers(rec.id, ctx.actor, ctx.now, &transitions); !s.ok()) return s;
  const auto fields = nlohmann::json::parse(rec.fields_json, nullptr, false);
  std::vector<EventView> out;
  for (int t : transitions) out.push_back(EventOf(ctx, *def, def->transitions[t], fields, list_people));
  return out;
}

bool Unsigned(const DocumentRecord& d) {
  return d.status != "signed" && d.status != "superseded" && d.status != "revoked" && d.erased_at.empty() && d.intact;
}

}  // namespace

Result<std::vector<EventView>> Offers(Context& ctx, const std::string& instance) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  if (Status s = MayTouch(ctx, instance); !s.ok()) return s;
  InstanceRecord rec;
  if (Status s = ctx.store.Show(instance, &rec); !s.ok()) return s;
  return OffersOf(ctx, rec, MayListPeople(ctx));
}

std::vector<std::string> ChildWorkflows(const Definition& def) {
  std::set<std::string> found;
  std::function<void(const Condition&)> walk = [&](const Condition& c) {
    if (c.kind == Condition::Kind::kChildren && !c.workflow.empty()) found.insert(c.workflow);
    for (const auto& child : c.children) walk(child);
  };
  for (const auto& t : def.transitions) {
    if (t.when) walk(*t.when);
    if (t.check) walk(*t.check);
  }
  return {found.begin(), found.end()};
}

Result<StartForm> StartFormOf(Context& ctx, const std::string& workflow, const std::string& parent) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  const Definition* def = nullptr;
  if (Status s = ctx.store.Workflow(workflow, 0, &def); !s.ok()) return s;
  const bool list_people = MayListPeople(ctx);
  StartForm out{workflow, def->title.empty() ? workflow : def->title, {}, {}};
  bool from_parent = false;
  for (const auto& f : def->fields) {
    from_parent = from_parent || !f.from_parent.empty();
    if (f.type == FieldType::kList || f.type == FieldType::kBool) continue;
    if (!f.required && f.type != FieldType::kPerson && !IsSet(f.default_value)) continue;
    // A field a parent gives is asked for too: started without one, it is the form's.
    out.inputs.push_back(InputOf(ctx, f, f.required && f.from_parent.empty(), list_people));
  }
  if (!parent.empty()) {
    auto p = ShowInstance(ctx, parent);
    if (!p.ok()) return p.status();
    for (auto& in : out.inputs)
      for (const auto& f : p->fields)
        if (f.name == in.name && !f.text.empty()) {
          in.value = f.text;
          if (in.type == "person" && in.options.empty() && !f.value_title.empty())
            in.options.push_back({f.text, f.value_title});  // the parent's person, by name
        }
    out.parents.push_back({p->record.id, p->workflow_title + " №" + p->record.id + " (" + p->state_title + ")"});
    return out;
  }
  // Possible parents: instances of the workflows `start_when` counts, and of
  // the workflows its running instances were started under.
  std::set<std::string> parent_workflows;
  std::function<void(const Condition&)> walk = [&](const Condition& c) {
    if (!c.workflow.empty() && c.workflow != workflow) parent_workflows.insert(c.workflow);
    for (const auto& child : c.children) walk(child);
  };
  if (def->start_when) walk(*def->start_when);
  if (!from_parent && parent_workflows.empty()) return out;
  std::vector<InstanceRecord> mine;
  if (Status s = ctx.store.List(workflow, "", &mine); !s.ok()) return s;
  std::set<std::string> parent_ids;
  for (const auto& r : mine)
    if (!r.parent.empty()) parent_ids.insert(r.parent);
  for (const auto& id : parent_ids) {
    InstanceRecord p;
    if (ctx.store.Show(id, &p).ok()) parent_workflows.insert(p.workflow);
  }
  for (const auto& w : parent_workflows) {
    auto listed = ListInstances(ctx, {w, ""});
    if (!listed.ok()) continue;
    for (const auto& v : *listed) {
      const Definition* pd = nullptr;
      if (!ctx.store.Workflow(v.record.workflow, v.record.workflow_version, &pd).ok()) continue;
      const int st = pd->StateIndex(v.record.state);
      if (st >= 0 && pd->states[st].final) continue;
      out.parents.push_back({v.record.id, v.workflow_title + " №" + v.record.id + " (" + v.state_title + ")"});
    }
  }
  return out;
}

Result<TaskList> Tasks(Context& ctx) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  TaskList out;
  const bool list_people = MayListPeople(ctx);

  // Consents: the actor's own and their wards', where none is in force.
  std::vector<Store::PersonSummary> people;
  Store::PeopleFilter mine;
  mine.of = ctx.actor;
  if (Status s = ctx.store.People(mine, &people); !s.ok()) return s;
  for (const auto& p : people)
    if (!p.consent) out.consents.push_back({p.id, p.name, p.id != ctx.actor});

  // Events open now, and the documents of those instances awaiting a signature.
  // The instances are named by their workflow's title and number only (no
  // one's data is shown), so the read rule applies and no read is recorded.
  std::vector<InstanceRecord> records;
  if (Status s = ctx.store.List("", "", &records); !s.ok()) return s;
  for (auto& rec : records) {
    const Definition* def = nullptr;
    if (!ctx.store.Workflow(rec.workflow, rec.workflow_version, &def).ok()) continue;
    const int st = def->StateIndex(rec.state);
    if (st < 0 || def->states[st].final) continue;
    Status read = ctx.store.AuthorizeRead({rec.id, {}, "", false}, ctx.actor, ctx.now);
    if (read.code() == Code::kNotFound || read.code() == Code::kRefused) continue;  // not theirs
    if (!read.ok()) return read;
    auto events = OffersOf(ctx, rec, list_people);
    if (!events.ok()) return events.status();
    std::vector<DocumentRecord> docs;
    if (Status s = ctx.store.Documents(rec.id, &docs); !s.ok()) return s;
    for (auto& d : docs)
      if (Unsigned(d) && ctx.store.MaySignNow(d.Id(), ctx.actor, ctx.now).ok()) out.to_sign.push_back(std::move(d));
    if (events->empty()) continue;
    InstanceView v;
    v.record = std::move(rec);
    v.workflow_title = def->title.empty() ? v.record.workflow : def->title;
    v.state_title = def->states[st].title.empty() ? v.record.state : def->states[st].title;
    out.instances.push_back({std::move(v), std::move(*events)});
  }
  // Orders (collective documents), signed by whoever their YAML names.
  std::vector<DocumentRecord> all;
  if (list_people && ctx.store.Documents("", &all).ok())
    for (auto& d : all)
      if (!d.number.empty() && Unsigned(d) && ctx.store.MaySignNow(d.number, ctx.actor, ctx.now).ok())
        out.to_sign.push_back(std::move(d));

  auto agenda = Agenda(ctx, {ctx.actor, FormatDate(ctx.now.today), FormatDate(AddDuration(ctx.now.today, Duration{0, 0, 14}))});
  if (agenda.ok()) out.deadlines = std::move(agenda->deadlines);
  return out;
}

}  // namespace mentorflow::app
