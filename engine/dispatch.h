// The pure dispatch core.
//
//   Start(definition, input, parent, actor, now, world)            -> Outcome
//   Dispatch(definition, snapshot, event, input, actor, now, world) -> Outcome
//
// An Outcome is either a Decision (everything storage must apply, in one
// transaction) or a Refusal naming the rule that refused. Nothing here does
// I/O or reads a clock: `now` and the outside facts (`World`) are inputs, so
// the same call always gives the same answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/calendar.h"
#include "engine/table.h"
#include "engine/model.h"
#include "engine/status.h"

namespace mentorflow {

// Who acts. `roles` are all the roles the person holds in the institution.
struct Actor {
  std::string id;
  std::vector<std::string> roles;

  static Actor System() { return {"system", {"system"}}; }
  bool Holds(std::string_view role) const;
};

// The moment of a command: the instant, and its calendar date in the
// institution's time zone (see LocalDate()).
struct Now {
  Instant instant;
  Date today;
  std::string minute;  // the local wall time, "YYYY-MM-DDTHH:MM" (see LocalDateTime())
  static Now At(Instant t, const std::string& zone) { return {t, LocalDate(t, zone), LocalDateTime(t, zone)}; }
  // The local minute, whether or not `minute` was filled in.
  std::string Minute() const { return minute.empty() ? FormatDate(today) + "T00:00" : minute; }
};

// The instance as stored: everything dispatch needs that belongs to it.
struct Snapshot {
  std::string id;
  std::string parent;
  int state = -1;
  std::vector<Value> fields;         // one per Definition::fields
  std::vector<char> signed_documents;  // one per Definition::documents; empty = none signed
};

// Facts about the rest of the institution. Read-only; implemented by storage
// (and by a small fake in the tests of the pure core).
class World {
 public:
  virtual ~World() = default;
  // Whether the person's consent for `purpose` is given and not revoked.
  virtual bool HasConsent(std::string_view person_id, std::string_view purpose) const = 0;
  virtual bool PersonHasRole(std::string_view person_id, std::string_view role) const = 0;
  // Everyone holding `role`, in id order.
  virtual std::vector<std::string> PeopleWithRole(std::string_view role) const = 0;
  struct ChildCount {
    std::int64_t total = 0;
    std::int64_t in_states = 0;
  };
  // Children of `parent_id` running `workflow`: how many, and how many of them
  // are in one of `states`.
  virtual ChildCount CountChildren(std::string_view parent_id, std::string_view workflow,
                                   const std::vector<std::string>& states) const = 0;
  // Instances of c.workflow in c.states (any state if empty) whose fields equal c.where.
  virtual std::int64_t CountInstances(const Condition& c) const = 0;
  // The data table `name` as stored (`init` loads tables/NAME.csv), or nullptr.
  virtual const DataTable* Table(std::string_view name) const = 0;
  // The person registered as `person_id`'s guardian, or "".
  virtual std::string GuardianOf(std::string_view person_id) const = 0;
  // Their birth date, if recorded: under 18 on the day, a person's acts in
  // a role bound to them are their guardian's (see FindTransition).
  virtual std::optional<Date> BirthOf(std::string_view person_id) const = 0;
  // An instance as a child started under it sees it: its state, whether it
  // is finished, and the people its person fields name (role, person).
  struct ParentView {
    std::string state;
    bool finished = false;
    std::vector<std::pair<std::string, std::string>> people;
    std::vector<std::pair<std::string, std::string>> fields;  // every field that is set: name, value as text
  };
  virtual std::optional<ParentView> Parent(std::string_view id) const = 0;
};

using Input = std::vector<std::pair<std::string, std::string>>;  // --set k=v, in order

// A person's legal capacity on a day (Civil Code articles 26 and 28): under
// 14 their legal representative acts and signs in their place; from 14 to
// 17 they act and sign themselves, and what they sign needs their
// representative's written consent too; from their 18th birthday — or when
// no birth date is recorded — they act alone.
enum class Capacity { kFull, kWithConsent, kRepresented };
Capacity CapacityOn(const std::optional<Date>& birth, Date today);

struct FieldChange {
  int field = -1;
  Value before;
  Value after;
};

// A deadline timer: when `today` is past `due` and the instance is still in
// `state`, `event` is sent by the system.
struct TimerSpec {
  std::string key;  // "deadline:STATE"
  int state = -1;
  std::string event;
  Date due;
  // A deadline at a datetime field: its local minute ("YYYY-MM-DDTHH:MM"),
  // when it fires (`due` is its day); "": the whole day `due`, fired once it
  // has passed.
  std::string at;
};

// What a reminder is about, as people see it in the outbox.
enum class ReminderKind {
  kUpcoming,  // a deadline is coming (sent before it)
  kDue,       // the deadline is today
  kOverdue,   // a deadline passed: sent on entering the state its event led to
  kNotice,    // a notification on entering a state
};
std::string_view ReminderKindName(ReminderKind k);

// A reminder to put in the outbox, to be sent on `on` to the people named by
// `notify`: a person field's person, or the holders of a role (for a role
// bound to a person field, that person only; see Recipients() in rules.h).
struct ReminderSpec {
  std::string key;  // "deadline:STATE:N" (cancelled with the timer) or "notify:STATE:N"
  Date on;
  std::vector<std::string> notify;
  std::string template_name;  // templates/reminders/T.mustache
  int state = -1;
  ReminderKind kind = ReminderKind::kNotice;
  std::string event;        // the deadline's event, if any
  std::optional<Date> due;  // the deadline, if any
  std::string due_at;       // its local minute ("YYYY-MM-DDTHH:MM") when it is at one
  int list_field = -1;      // a list record's own reminder: the list...
  std::string item_id;      // ...and the record (its fields are item.* in the text)
};

struct HistoryEntry {
  Instant at;
  std::string actor;
  std::string role;
  std::string event;  // "start" for a new instance
  std::string from;   // empty for a new instance
  std::string to;
  std::vector<FieldChange> changes;
  std::string note;  // why, for entries that are not transitions (a refused deadline event, a signature)
};

struct Decision {
  int transition = -1;  // -1 for Start
  int from = -1;        // -1 for Start
  int to = -1;
  bool reentered = false;  // the state's on_enter and deadline ran
  std::vector<Value> fields;  // the instance's fields after the decision
  std::vector<FieldChange> changes;
  std::vector<std::string> cancel_timers;  // timer keys; their unsent reminders go too
  std::vector<std::string> cancel_notices;  // "notify:STATE": its notices not yet due go too
  std::vector<TimerSpec> timers;
  std::vector<ReminderSpec> reminders;
  std::vector<int> documents;  // documents to issue (indices)
  // Duties to start beside the instance (Action kStart): workflow, values.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> starts;
  HistoryEntry history;
};

struct Refusal {
  Code code = Code::kRefused;
  std::string rule;  // "unknown_event", "state", "final", "role", "person", "condition", "input", "not_found"
  std::string message;
  std::string field;  // rule "input": the input (a field, or an item's field) refused, when one is
};

struct Outcome {
  std::optional<Decision> decision;
  Refusal refusal;
  bool ok() const { return decision.has_value(); }
};

Outcome Start(const Definition& def, const Input& input, const std::string& parent, const Actor& actor,
              const Now& now, const World& world);

Outcome Dispatch(const Definition& def, const Snapshot& snap, std::string_view event, const Input& input,
                 const Actor& actor, const Now& now, const World& world);

// Arms the deadline of `state` (if it has one) as entering it on `now` does:
// the timer into d.timers and its reminders into d.reminders.
void ArmDeadline(const Definition& def, int state, const Now& now, Decision& d);

// The transition that `actor` may take on `event_id` from the snapshot's state
// on `today`, or -1. A role bound to a person field is taken by that person
// — or, while they are a minor (a recorded birth date, under 18 on `today`),
// by their registered guardian too; a child under 14 never acts themself
// (CapacityOn). Does not allocate
// for people of age: this is the hot path measured by bench/dispatch.
int FindTransition(const Definition& def, const Snapshot& snap, int event_id, const Actor& actor,
                   const World& world, const Now& now);

// Evaluates a condition against the snapshot's fields (or an item's values,
// inside {every}) at `now` (for `today` and `now` operands). Does not
// allocate, but for counts and table lookups.
bool Evaluate(const Definition& def, const Condition& c, const Snapshot& snap, const std::vector<Value>& values,
              const World& world, const Now& now);

// Why `c` is false, in words ("document 'agreement' signed").
std::string ExplainFailure(const Definition& def, const Condition& c, const Snapshot& snap,
                           const std::vector<Value>& values, const World& world,
                           const std::vector<FieldDef>& scope, const Now& now);

// Applies a decision to a snapshot (what storage does to its row).
void Apply(const Decision& d, Snapshot& snap);

}  // namespace mentorflow
