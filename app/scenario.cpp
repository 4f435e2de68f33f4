#include "app/scenario.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "app/delivery.h"
#include "app/stats.h"
#include "storage/store.h"

namespace mentorflow {
namespace {

Mark MarkOf(const YAML::Node& n) { return Mark{n.Mark().line + 1, n.Mark().column + 1}; }

std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

const std::vector<std::string> kTopKeys = {"zone", "institution", "description", "daily_ticks", "particulars", "people",
                                           "steps"};
const std::vector<std::string> kPersonKeys = {"name",  "roles",      "consent", "birth",   "guardian",
                                              "email", "attributes", "address", "document", "authority"};
const std::vector<std::string> kInstitutionKeys = {"name", "address"};
const std::vector<std::string> kParticularKeys = {"address", "document", "authority"};
const std::vector<std::string> kDocumentKeys = {"kind", "number", "issued", "issuer"};
const std::vector<std::string> kStepKeys = {"at", "as", "start", "name", "parent", "set", "send", "to",
                                            "sign", "in", "issue", "lists", "consent", "revoke", "erase", "tick", "expect_state", "expect_fields", "expect_stats",
                                            "started", "except", "purpose",
                                            "expect", "refused", "exit", "message", "fired", "reminders",
                                            "reminded", "from"};

class Runner {
 public:
  Runner(const std::string& path, const Catalog& catalog, const ScenarioOptions& options,
         const std::function<void(const std::string&)>& log)
      : path_(path), catalog_(catalog), options_(options), log_(log) {}

  ScenarioReport Run() {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path_);
    } catch (const YAML::Exception& e) {
      Fail(Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg);
      return std::move(report_);
    }
    if (!root.IsMap()) {
      Fail(Mark{1, 1}, "a scenario is a mapping with 'people' and 'steps'");
      return std::move(report_);
    }
    if (!CheckKeys(root, kTopKeys, "a scenario")) return std::move(report_);
    zone_ = root["zone"] ? Str(root["zone"]) : "Europe/Moscow";
    daily_ = root["daily_ticks"] && root["daily_ticks"].as<bool>();
    Status st;
    store_ = Store::Open(options_.db_url, &st, StoreOptions{options_.templates_dir, false, ""});
    if (!store_) {
      Fail(Mark{1, 1}, "cannot open the database: " + st.message());
      return std::move(report_);
    }
    // Everything before the first dated step happens on its date.
    std::string first = "2000-01-01";
    for (const auto& step : root["steps"])
      if (step.IsMap() && (step["at"] || step["tick"])) {
        first = Str(step["at"] ? step["at"] : step["tick"]);
        break;
      }
    auto t = ParseLocalTime(first, zone_);
    if (!t) {
      Fail(Mark{1, 1}, "bad first date '" + first + "'");
      return std::move(report_);
    }
    now_ = Now::At(*t, zone_);
    ticked_ = now_.today;
    Store::InitOptions init;
    init.zone = zone_;
    // institution: NAME, or {name: NAME, address: ADDRESS} (a consent states both).
    if (const YAML::Node inst = root["institution"]; inst && inst.IsMap()) {
      if (!CheckKeys(inst, kInstitutionKeys, "institution")) return std::move(report_);
      init.institution = Str(inst["name"]);
      init.institution_address = Str(inst["address"]);
    } else {
      init.institution = Str(inst);
    }
    // particulars: what a consent states of every person who does not give
    // their own (address, document: {kind, number, issued, issuer}, authority).
    if (const YAML::Node p = root["particulars"]; p) {
      if (!p.IsMap() || !CheckKeys(p, kParticularKeys, "particulars")) {
        if (!p.IsMap()) Fail(MarkOf(p), "particulars: a mapping of address, document and authority");
        return std::move(report_);
      }
      particulars_ = p;
    }
    // The first director among the people is created by init, as
    // `mentorflow init --director` does; they register everyone else.
    for (auto it = root["people"].begin(); root["people"].IsMap() && it != root["people"].end(); ++it) {
      const YAML::Node p = it->second;
      bool director = false;
      if (p.IsMap() && p["roles"].IsSequence())
        for (const auto& r : p["roles"]) director = director || r.Scalar() == "director";
      if (!director) continue;
      init.director = PersonRecord{Str(it->first), p["name"] ? Str(p["name"]) : Str(it->first), {}, Str(p["birth"]), "",
                                   Str(p["email"])};
      for (const auto& r : p["roles"]) init.director.roles.push_back(r.Scalar());
      registrar_ = init.director.id;
      break;
    }
    if (registrar_.empty()) {
      Fail(MarkOf(root), "a scenario needs a director among its people: they register the others");
      return std::move(report_);
    }
    if (Status s = store_->Init(catalog_, now_, nullptr, init); !s.ok()) {
      Fail(MarkOf(root), "init: " + s.message());
      return std::move(report_);
    }
    if (!AddPeople(root["people"])) return std::move(report_);
    report_.director = registrar_;
    if (!options_.deliver_via.empty())
      if (Status s = OpenChannel(options_.deliver_via, 30, &channel_); !s.ok()) {
        Fail(MarkOf(root), "deliver: " + s.message());
        return std::move(report_);
      }
    for (const auto& step : root["steps"]) {
      ++report_.steps;
      try {
        if (step.IsMap() && CheckKeys(step, kStepKeys, "a step")) Step(step);
        else if (!step.IsMap()) Fail(MarkOf(step), "a step is a mapping");
      } catch (const YAML::Exception& e) {
        Fail(MarkOf(step), "bad step: " + e.msg);
      }
    }
    report_.end = now_;
    return std::move(report_);
  }

 private:
  void Fail(Mark m, std::string message) { report_.failures.push_back({path_, m, std::move(message)}); }
  void Log(const std::string& s) {
    if (log_) log_(s);
  }

  bool CheckKeys(const YAML::Node& n, const std::vector<std::string>& known, const std::string& what) {
    bool ok = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = Str(it->first);
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        std::string list;
        for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
        Fail(MarkOf(it->first), "unknown key '" + k + "' in " + what + " (known: " + list + ")");
        ok = false;
      }
    }
    return ok;
  }

  bool AddPeople(const YAML::Node& people) {
    // Guardians first, so that a minor's guardian exists when the minor is added.
    std::vector<std::pair<YAML::Node, YAML::Node>> order;
    for (auto it = people.begin(); it != people.end(); ++it)
      if (!it->second["guardian"]) order.push_back({it->first, it->second});
    for (auto it = people.begin(); it != people.end(); ++it)
      if (it->second["guardian"]) order.push_back({it->first, it->second});
    for (const auto& [key, p] : order) {
      if (!CheckKeys(p, kPersonKeys, "a person")) return false;
      PersonRecord rec;
      rec.id = Str(key);
      rec.name = p["name"] ? Str(p["name"]) : rec.id;
      for (const auto& r : p["roles"]) rec.roles.push_back(r.Scalar());
      rec.birth = Str(p["birth"]);
      rec.guardian = Str(p["guardian"]);
      rec.email = Str(p["email"]);
      if (const YAML::Node attrs = p["attributes"]; attrs && attrs.IsMap())
        for (auto a = attrs.begin(); a != attrs.end(); ++a) rec.attributes.push_back({Str(a->first), Str(a->second)});
      if (!Particulars(p, &rec)) return false;
      if (rec.id == registrar_) {  // created by init; what a consent states of them is recorded as of anyone
        PersonUpdate u;
        u.id = rec.id;
        u.address = rec.address;
        u.document_kind = rec.document.kind;
        u.document_number = rec.document.number;
        u.document_issued = rec.document.issued;
        u.document_issuer = rec.document.issuer;
        if (!rec.address.empty() || !rec.document.Empty())
          if (Status s = store_->UpdatePerson(u, registrar_, now_); !s.ok()) {
            Fail(MarkOf(key), "person " + rec.id + ": " + s.message());
            return false;
          }
        continue;
      }
      if (Status s = store_->AddPerson(rec, registrar_, now_); !s.ok()) {
        Fail(MarkOf(key), "person " + rec.id + ": " + s.message());
        return false;
      }
    }
    for (const auto& [key, p] : order) {
      // consent: true (for mentoring), or the list of purposes consented to.
      std::vector<std::string> purposes;
      if (const YAML::Node c = p["consent"]; c && c.IsSequence()) {
        for (const auto& item : c) purposes.push_back(Str(item));
      } else if (c && c.IsScalar() && c.Scalar() != "false" && c.as<bool>(false)) {
        purposes.push_back(kDefaultPurpose);
      }
      std::string id = Str(key), by = p["guardian"] ? Str(p["guardian"]) : id;
      for (const auto& purpose : purposes) {
        if (Status s = store_->SetConsent(id, true, by, now_, "", purpose); !s.ok()) {
          Fail(MarkOf(key), "consent of " + id + ": " + s.message());
          return false;
        }
        // From 14 to 17 the teenager signs beside the guardian (under 14 they
        // are refused, and the guardian's signature is the consent).
        if (by != id)
          if (Status s = store_->SetConsent(id, true, id, now_, "", purpose); !s.ok() && s.code() != Code::kRefused) {
            Fail(MarkOf(key), "consent of " + id + ": " + s.message());
            return false;
          }
      }
    }
    return true;
  }

  // A person's address, document and authority: their own keys, else the
  // scenario's `particulars:`.
  bool Particulars(const YAML::Node& person, PersonRecord* rec) {
    const YAML::Node& defaults = particulars_;
    auto pick = [&](const char* key) { return person[key] ? person[key] : defaults[key]; };
    rec->address = Str(pick("address"));
    rec->authority = Str(pick("authority"));
    if (const YAML::Node d = pick("document"); d) {
      if (!d.IsMap() || !CheckKeys(d, kDocumentKeys, "document")) {
        if (!d.IsMap()) Fail(MarkOf(d), "document: a mapping of kind, number, issued and issuer");
        return false;
      }
      rec->document = {Str(d["kind"]), Str(d["number"]), Str(d["issued"]), Str(d["issuer"])};
    }
    return true;
  }

  std::string Id(const YAML::Node& n) {
    std::string name = Str(n);
    auto it = names_.find(name);
    return it == names_.end() ? name : it->second;
  }
  std::string NameOf(const std::string& id) {
    for (const auto& [name, i] : names_)
      if (i == id) return name;
    return "#" + id;
  }
  Input SetOf(const YAML::Node& n) {
    Input in;
    for (auto it = n.begin(); it != n.end(); ++it) in.push_back({it->first.Scalar(), it->second.Scalar()});
    return in;
  }

  // Compares a count or an exact list (in any order) of "..." lines.
  void Expect(const YAML::Node& want, std::vector<std::string> got, const std::string& what, Mark m) {
    if (!want) return;
    if (want.IsScalar()) {
      if (static_cast<int>(got.size()) != want.as<int>())
        Fail(m, "expected " + Str(want) + " " + what + ", got " + std::to_string(got.size()) + Listed(got));
      return;
    }
    std::vector<std::string> w;
    for (const auto& x : want) w.push_back(x.Scalar());
    std::sort(w.begin(), w.end());
    std::sort(got.begin(), got.end());
    if (w != got) Fail(m, "expected " + what + Listed(w) + ", got" + Listed(got));
  }
  static std::string Listed(const std::vector<std::string>& v) {
    std::string out = " [";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "; " : "") + v[i];
    return out + "]";
  }

  // The reminders that have come due since the last look.
  std::vector<ReminderRecord> NewReminders() {
    std::vector<ReminderRecord> all, fresh;
    store_->Reminders({}, &all);
    for (auto& r : all)
      if (seen_.insert(r.id).second) fresh.push_back(std::move(r));
    return fresh;
  }

  // Hands what is deliverable at `at` to the scenario's channel, if any.
  void Deliver(const Now& at, Mark m) {
    if (!channel_) return;
    DeliveryReport rep;
    if (Status st = DeliverPending(*store_, *channel_, at, &rep); !st.ok()) return Fail(m, "deliver: " + st.message());
    report_.delivered += rep.sent;
  }

  // "«Направить участникам документы» → «Сбор согласий и соглашения»": the
  // titles of the transition taken from `from` on `event` and of the state
  // reached, from the instance's workflow; ids where there is no title.
  std::string Titles(const std::string& workflow, const std::string& from, const std::string& event,
                     const std::string& to) {
    const Definition* def = catalog_.Find(workflow);
    if (!def) return event + " -> " + to;
    std::string transition = event;
    const int f = def->StateIndex(from), t = def->StateIndex(to);
    for (const auto& tr : def->transitions)
      if (tr.event == event && !tr.title.empty() && (from.empty() || std::count(tr.from.begin(), tr.from.end(), f)) &&
          (tr.to < 0 ? f == t : tr.to == t)) {
        transition = tr.title;
        break;
      }
    const std::string state = t >= 0 && !def->states[t].title.empty() ? def->states[t].title : to;
    return transition + " → " + state;
  }

  // With `daily_ticks: true`, time never jumps: before anything happens on a
  // day, `tick` has run at the start of every day up to it, as cron would.
  bool TickThrough(Date day, Mark m) {
    if (!daily_) return true;
    for (Date d = ticked_ + date::days{1}; d <= day; d += date::days{1}) {
      Now at = Now::At(*ParseLocalTime(FormatDate(d), zone_), zone_);
      if (Status st = store_->Tick(at, &ticks_); !st.ok()) {
        Fail(m, "tick on " + FormatDate(d) + ": " + st.message());
        return false;
      }
      Deliver(at, m);
      ticked_ = d;
    }
    return true;
  }

  void Step(const YAML::Node& s) {
    Mark m = MarkOf(s);
    if (s["at"]) {
      auto t = ParseLocalTime(Str(s["at"]), zone_);
      if (!t) return Fail(m, "bad 'at': " + Str(s["at"]));
      if (!TickThrough(LocalDate(*t, zone_), m)) return;
      now_ = Now::At(*t, zone_);
    }
    const std::string as = Str(s["as"]);
    Status st;
    std::string what, state;
    InstanceRecord rec;
    Refusal refusal;
    std::string story;  // what the step did, in the YAML's words
    if (s["start"]) {
      st = store_->Start(Str(s["start"]), SetOf(s["set"]), Id(s["parent"]), as, now_, &rec, &refusal);
      if (s["name"] && st.ok()) names_[Str(s["name"])] = rec.id;
      what = "start " + Str(s["start"]) + (s["name"] ? " (" + Str(s["name"]) + ")" : "");
      state = rec.state;
      if (const Definition* def = catalog_.Find(Str(s["start"])); def && st.ok()) {
        const int t = def->StateIndex(rec.state);
        story = "«" + def->title + "» " + (s["name"] ? Str(s["name"]) : "#" + rec.id) + " started → " +
                (t >= 0 && !def->states[t].title.empty() ? def->states[t].title : rec.state);
      }
    } else if (s["started"]) {
      // {started: W, name: N}: names the running instance of W that a state
      // started by itself ({start: W} in on_enter); there must be one.
      std::vector<InstanceRecord> all;
      st = store_->List(Str(s["started"]), "", &all);
      what = "find the running " + Str(s["started"]);
      const Definition* def = catalog_.Find(Str(s["started"]));
      const InstanceRecord* found = nullptr;
      for (const auto& r : all)
        if (def && def->StateIndex(r.state) >= 0 && !def->states[def->StateIndex(r.state)].final) found = &r;
      if (st.ok() && !found) st = Status::NotFound("no running instance of '" + Str(s["started"]) + "'");
      if (found) {
        rec = *found;
        state = rec.state;
        if (s["name"]) names_[Str(s["name"])] = rec.id;
        story = "«" + def->title + "» " + (s["name"] ? Str(s["name"]) : "#" + rec.id) + " runs";
      }
    } else if (s["send"]) {
      InstanceRecord before;
      store_->Show(Id(s["to"]), &before);
      st = store_->Send(Id(s["to"]), Str(s["send"]), SetOf(s["set"]), as, now_, &rec, &refusal);
      what = "send " + Str(s["send"]) + " to " + Str(s["to"]);
      if (!st.ok()) store_->Show(Id(s["to"]), &rec);
      state = rec.state;
      if (st.ok()) story = Str(s["to"]) + ": " + Titles(rec.workflow, before.state, Str(s["send"]), rec.state);
    } else if (s["issue"]) {
      // {issue: COLLECTIVE_DOC, name: N, lists: [instance names]}: an order.
      DocumentRecord order;
      st = store_->IssueOrder(Str(s["issue"]), as, now_, &order);
      what = "issue " + Str(s["issue"]);
      if (st.ok()) {
        if (s["name"]) names_[Str(s["name"])] = order.Id();
        what += " " + order.Id() + " listing " + std::to_string(order.items.size());
        if (s["lists"]) {
          std::vector<std::string> want;
          for (const auto& n : s["lists"]) want.push_back(Id(n));
          if (want != order.items) Fail(m, "the order does not list the instances in 'lists'");
        }
      }
      state = st.ok() ? order.status : "";
    } else if (s["sign"] && !s["in"]) {
      // {sign: ORDER_NAME}: an order an earlier `issue` step named.
      std::string doc_status;
      std::vector<std::string> sent;
      st = store_->SignOrder(Id(s["sign"]), as, now_, &doc_status, &sent);
      what = "sign " + Id(s["sign"]) + (st.ok() ? ", sent to " + std::to_string(sent.size()) : std::string());
      state = st.ok() ? doc_status : "";
    } else if (s["sign"]) {
      std::string doc_status;
      st = store_->Sign(Id(s["in"]), Str(s["sign"]), as, now_, &doc_status);
      what = "sign " + Str(s["sign"]) + " in " + Str(s["in"]);
      state = st.ok() ? doc_status : "";
    } else if (s["consent"] || s["revoke"]) {
      const bool give = static_cast<bool>(s["consent"]);
      const std::string person = Str(give ? s["consent"] : s["revoke"]);
      const std::string purpose = s["purpose"] ? Str(s["purpose"]) : kDefaultPurpose;
      st = store_->SetConsent(person, give, as.empty() ? person : as, now_, "", purpose);
      what = (give ? "consent " : "revoke ") + person + (s["purpose"] ? " for " + purpose : std::string());
      state = give ? "given" : "revoked";
    } else if (s["erase"]) {
      DocumentRecord act;
      st = store_->ErasePerson(Str(s["erase"]), as, now_, &act);
      what = "erase " + Str(s["erase"]);
      state = st.ok() ? "erased" : "";
    } else if (s["tick"]) {
      return Tick(s, m);
    } else if (!s["expect_state"] && !s["expect_fields"] && !s["expect_stats"]) {
      return Fail(m, "a step needs one of: start, send, sign, issue, consent, revoke, erase, tick, expect_state, "
                     "expect_fields, expect_stats");
    }
    if (!what.empty()) {
      Log(FormatDate(now_.today) + "  " + (as.empty() ? "" : as + ": ") +
          (st.ok() && !story.empty() ? story : what + " -> " + (st.ok() ? state : "refused (" + std::to_string(st.exit_code()) + "): " + st.message())));
      const std::string rule = !refusal.rule.empty() ? refusal.rule : st.rule();
      if (s["refused"]) {
        if (st.ok()) Fail(m, "expected a refusal (" + Str(s["refused"]) + "), but it was accepted");
        else if (rule != Str(s["refused"]))
          Fail(m, "expected refusal rule '" + Str(s["refused"]) + "', got '" + rule + "': " + st.message());
      } else if (s["exit"]) {
        if (st.exit_code() != s["exit"].as<int>())
          Fail(m, "expected exit " + Str(s["exit"]) + ", got " + std::to_string(st.exit_code()) + ": " + st.message());
      } else if (!st.ok()) {
        Fail(m, "refused: " + st.message());
      }
      if (s["expect"] && state != Str(s["expect"]))
        Fail(m, "expected state '" + Str(s["expect"]) + "', got '" + state + "'");
      if (s["message"] && st.message().find(Str(s["message"])) == std::string::npos)
        Fail(m, "expected the message to contain '" + Str(s["message"]) + "', got: " + st.message());
    }
    CheckStates(s, m);
  }

  // {tick: DAY} ticks once; {tick: DAY, from: FIRST} every day from FIRST to
  // DAY, as cron would, and the expectations cover all of those days.
  void Tick(const YAML::Node& s, Mark m) {
    auto t = ParseLocalTime(Str(s["tick"]), zone_);
    if (!t) return Fail(m, "bad 'tick': " + Str(s["tick"]));
    std::vector<Instant> moments;
    if (s["from"]) {
      auto first = ParseDate(Str(s["from"]));
      if (!first) return Fail(m, "bad 'from': " + Str(s["from"]));
      for (Date d = *first; d < LocalDate(*t, zone_); d += date::days{1})
        moments.push_back(*ParseLocalTime(FormatDate(d), zone_));
    }
    moments.push_back(*t);
    if (!TickThrough(LocalDate(*t, zone_) - date::days{1}, m)) return;
    Store::TickReport rep = std::move(ticks_);  // what the daily ticks fired since the last tick step
    ticks_ = {};
    for (Instant at : moments) {
      now_ = Now::At(at, zone_);
      if (Status st = store_->Tick(now_, &rep); !st.ok()) return Fail(m, "tick: " + st.message());
      Deliver(now_, m);
    }
    if (now_.today > ticked_) ticked_ = now_.today;
    auto reminders = NewReminders();
    report_.fired += static_cast<int>(rep.fired.size());
    report_.reminders += static_cast<int>(reminders.size());
    Log(FormatDate(now_.today) + "  tick: " + std::to_string(rep.fired.size()) + " deadline(s), " +
        std::to_string(reminders.size()) + " reminder(s)");
    // {except: [NAMES]}: these instances' firings and reminders happen (and
    // are logged) but are left out of `fired` and `reminders` (a weekly
    // clock running beside a story told month by month).
    std::set<std::string> except;
    if (s["except"])
      for (const auto& n : s["except"]) except.insert(Id(n));
    std::vector<std::string> fired, sent, to;
    for (const auto& f : rep.fired) {
      Log("    deadline " + f.event + " (due " + f.due + ") on " + NameOf(f.instance) + " [" + f.workflow + "] at " +
          f.at + " -> " + (f.refused ? "refused: " + f.reason : f.to));
      if (!except.count(f.instance)) fired.push_back(NameOf(f.instance) + " " + f.event + " " + f.due);
    }
    for (const auto& r : reminders) {
      Log("    reminder #" + std::to_string(r.id) + " " + r.on + " [" + r.kind + "] to " + r.to + " (" + r.to_name +
          ") about " + NameOf(r.instance) + ": " + r.subject);
      if (except.count(r.instance)) continue;
      sent.push_back(r.to + " " + r.kind + " " + NameOf(r.instance) + " " + r.on);
      to.push_back(r.to);
    }
    Expect(s["fired"], fired, "deadline(s) fired", m);
    Expect(s["reminders"], sent, "reminder(s)", m);
    if (s["reminded"])  // expected recipients, in any order across all reminders
      for (const auto& who : s["reminded"])
        if (std::find(to.begin(), to.end(), who.Scalar()) == to.end())
          Fail(m, "expected a reminder to " + who.Scalar() + Listed(sent));
    CheckStates(s, m);
  }

  // Calls `check` with each instance a {NAME: ...} mapping under `key` names
  // and what it expects of it; an unknown instance is a failure.
  void ForEachExpected(const YAML::Node& s, const char* key, Mark m,
                       const std::function<void(const std::string&, const InstanceRecord&, const YAML::Node&)>& check) {
    if (!s[key]) return;
    for (auto it = s[key].begin(); it != s[key].end(); ++it) {
      InstanceRecord rec;
      if (Status st = store_->Show(Id(it->first), &rec); !st.ok()) {
        Fail(m, "no instance '" + it->first.Scalar() + "'");
        continue;
      }
      check(it->first.Scalar(), rec, it->second);
    }
  }

  // {expect_stats: {year: Y, FIGURE: VALUE, GROUP: {FIGURE: VALUE}}}: the
  // figures `stats annual --year Y --format json` prints at this step's
  // moment; only those given are compared (null: none, as for a mean of no pairs).
  void CheckStats(const YAML::Node& want, Mark m) {
    if (!want) return;
    if (want["by"]) {  // {year: Y, by: ATTRIBUTE, ...}: as `stats annual --by ATTRIBUTE --json` prints it
      std::string text;
      if (Status st = app::AnnualBreakdownReport(*store_, options_.templates_dir, want["year"].as<int>(), Str(want["by"]),
                                                 now_, "json", &text);
          !st.ok())
        return Fail(m, "stats annual --by: " + st.message());
      Log(FormatDate(now_.today) + "  stats annual " + Str(want["year"]) + " --by " + Str(want["by"]) + ": " + text);
      YAML::Node rest = YAML::Clone(want);
      rest.remove("year");
      rest.remove("by");
      nlohmann::json got = nlohmann::json::parse(text);
      nlohmann::json parts = nlohmann::json::object();  // by value ("-" for not set), for the comparison
      for (const auto& p : got["parts"]) parts[p["value"].is_null() ? "-" : p["value"].get<std::string>()] = p;
      got["parts"] = parts;
      return CompareFigures(rest, got, "", m);
    }
    AnnualFigures f;
    if (Status st = store_->AnnualStatistics(want["year"].as<int>(), now_, &f); !st.ok())
      return Fail(m, "stats annual: " + st.message());
    Log(FormatDate(now_.today) + "  stats annual " + Str(want["year"]) + ": " + AnnualFiguresJson(f).dump());
    CompareFigures(want, AnnualFiguresJson(f), "", m);
  }
  void CompareFigures(const YAML::Node& want, const nlohmann::json& got, const std::string& path, Mark m) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      const std::string key = Str(it->first), where = path.empty() ? key : path + "." + key;
      if (!got.contains(key)) {
        Fail(m, "stats: no figure '" + where + "'");
        continue;
      }
      if (it->second.IsMap()) {
        CompareFigures(it->second, got[key], where, m);
        continue;
      }
      const std::string w = it->second.IsNull() ? "null" : Str(it->second);
      const std::string g = got[key].is_null() ? "null" : got[key].is_string() ? got[key].get<std::string>() : got[key].dump();
      if (w != g) Fail(m, "stats: " + where + " expected " + w + ", got " + g);
    }
  }

  // {expect_state: {INSTANCE: STATE}}; {expect_fields: {INSTANCE: {FIELD:
  // VALUE, ...}}}: values as printed (a date as YYYY-MM-DD, a bool as
  // true/false); "" for a field not set.
  void CheckStates(const YAML::Node& s, Mark m) {
    CheckStats(s["expect_stats"], m);
    ForEachExpected(s, "expect_fields", m, [&](const std::string& name, const InstanceRecord& rec, const YAML::Node& want) {
      auto fields = nlohmann::json::parse(rec.fields_json);
      for (auto f = want.begin(); f != want.end(); ++f) {
        const std::string field = Str(f->first), value = Str(f->second);
        std::string got;
        if (fields.contains(field) && !fields[field].is_null())
          got = fields[field].is_string() ? fields[field].get<std::string>() : fields[field].dump();
        if (got != value) Fail(m, name + "." + field + ": expected '" + value + "', got '" + got + "'");
      }
    });
    ForEachExpected(s, "expect_state", m, [&](const std::string& name, const InstanceRecord& rec, const YAML::Node& want) {
      if (rec.state != want.Scalar())
        Fail(m, name + ": expected state '" + want.Scalar() + "', got '" + rec.state + "'");
    });
  }

  std::string path_;
  const Catalog& catalog_;
  ScenarioOptions options_;
  const std::function<void(const std::string&)>& log_;
  std::string zone_;
  std::string registrar_;  // the director who registers the scenario's people
  YAML::Node particulars_;  // the scenario's `particulars:`: every person's unless they give their own
  std::unique_ptr<Store> store_;
  std::unique_ptr<Channel> channel_;  // options_.deliver_via, opened
  std::map<std::string, std::string> names_;
  std::set<long long> seen_;
  bool daily_ = false;
  Date ticked_{};                 // the last day ticked
  Store::TickReport ticks_;       // fired by daily ticks, not yet checked
  Now now_{};
  ScenarioReport report_;
};

}  // namespace

ScenarioReport RunScenarioFile(const std::string& path, const Catalog& catalog, const ScenarioOptions& options,
                               const std::function<void(const std::string&)>& log) {
  return Runner(path, catalog, options, log).Run();
}

}  // namespace mentorflow
