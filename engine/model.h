// The workflow model: what a validated YAML definition compiles into.
//
// A Definition is immutable once loaded. Names are resolved to indices at
// load time, and the transition table (state x event) is built once, so that
// dispatch never searches the YAML tree nor compares names on its hot path.
// Thread-safety: a const Definition may be shared between threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/calendar.h"

namespace mentorflow {

// A position in a YAML file, 1-based.
struct Mark {
  int line = 0;
  int column = 0;
};

struct Item;
using List = std::vector<Item>;

// A field value. monostate means "not set".
using Value = std::variant<std::monostate, bool, std::int64_t, std::string, Date, List>;

// One record of a list field (an individual plan's item); values follow the
// list's item fields in declaration order.
struct Item {
  std::string id;
  std::vector<Value> values;
  bool operator==(const Item& o) const { return id == o.id && values == o.values; }
  bool operator!=(const Item& o) const { return !(*this == o); }
  bool operator<(const Item& o) const { return id != o.id ? id < o.id : values < o.values; }
};

// kDateTime: a local wall time in the institution's zone, kept as the text
// "YYYY-MM-DDTHH:MM" (so that its order is the text's order).
enum class FieldType { kString, kInt, kBool, kDate, kEnum, kPerson, kList, kDateTime };

std::string_view FieldTypeName(FieldType t);

struct FieldDef {
  std::string name;
  FieldType type = FieldType::kString;
  std::string title;
  std::string role;  // kPerson: the role the person must hold
  int guardian_of = -1;  // kPerson: the field whose person this one must be the registered guardian of
  std::string from_parent;  // started under a parent that has this field set: its value, and no other
  bool required = false;
  Value default_value;
  std::optional<std::int64_t> min, max;  // kInt
  std::vector<std::string> values;       // kEnum
  std::vector<std::string> value_titles; // kEnum: what people see, one per value ("" if none)
  std::vector<FieldDef> item_fields;     // kList
  Mark mark;

  int ItemFieldIndex(std::string_view n) const;
};

struct DocumentDef {
  std::string name;
  std::string template_name;
  std::string title;
  std::vector<std::string> signers;  // roles or person fields
  Mark mark;
  // A collective document (`collects: STATE`): one document listing every
  // instance of the workflow in that state, issued by `doc issue` (by a role
  // of `issued_by`), and when fully signed `on_signed` is sent by the signer
  // to every listed instance in one transaction.
  int collects = -1;
  std::string collects_name;
  std::vector<std::string> issued_by;
  std::string on_signed;
  int on_signed_event = -1;
  Mark collects_mark, on_signed_mark;
  // `statistics: {annual: FIELD}`: the document is issued with the annual
  // figures (`stats annual`) of the year in int field FIELD, as `stats`.
  int statistics_year = -1;
  // `statistics: {..., to_region: true}`: the figures of each issue are kept,
  // and once every signer has signed, the regional centre reads them as
  // the institution's report for the year (a database of several
  // institutions, PostgreSQL).
  bool to_region = false;
  bool Collective() const { return collects >= 0 || !collects_name.empty(); }
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn };

// The purpose a workflow that declares none processes data for.
inline const std::string kDefaultPurpose = "mentoring";

struct Condition {
  enum class Kind {
    kCompare,   // {field: F, eq|ne|lt|le|gt|ge|in: V}
    kPresent,   // {present: F}: the field is set (a list: non-empty)
    kAll,       // {all: [..]}
    kAny,       // {any: [..]}
    kNot,       // {not: ..}
    kSigned,    // {signed: DOC}
    kConsent,   // {consent: [PERSON_FIELDS]}
    kChildren,  // {children: W, all_in: [STATES], min: N}
    kCount,     // {count: {workflow: W, where: {..}, state_in: [..]}, lt|le|gt|ge|eq: N}
    kEvery,     // {every: LIST_FIELD, match: COND}: non-empty, and each item matches
    kAge,       // {age: PERSON_FIELD, lt|le|gt|ge|eq: N}: their age in whole years today
  };
  Kind kind = Kind::kAll;
  CompareOp op = CompareOp::kEq;
  int field = -1;                      // kCompare, kPresent, kEvery, kAge (an item field inside kEvery)
  Value constant;                      // kCompare
  std::vector<Value> constants;        // kCompare with kIn
  std::vector<Condition> children;     // kAll, kAny, kNot, kEvery
  int document = -1;                   // kSigned
  std::vector<int> person_fields;      // kConsent
  std::string purpose;                 // kConsent: the purpose asked for; empty: the workflow's
  std::string workflow;                // kChildren, kCount
  std::vector<std::string> states;     // kChildren, kCount
  std::int64_t number = 0;             // kChildren: min; kCount, kAge: the bound
  bool some = false;                   // kChildren with some_in: at least `min` (1) of them in the states
  std::vector<std::pair<std::string, std::string>> where;  // kCount: field = value
  // kCount: {F: {field: G}}: the counted instance's F equals this one's G.
  std::vector<std::pair<std::string, int>> where_fields;
  // kCompare: what the field is compared with, when not `constant`:
  // another field of the same scope, or the day (`today`) or minute (`now`)
  // the condition is evaluated at. A date and a datetime compare by day.
  enum class Operand { kConstant, kField, kToday, kNow };
  Operand operand = Operand::kConstant;
  int operand_field = -1;
  // kCount: the bound read from a data table (`{table: T, row: F, column:
  // C}`): the cell of column C in the row whose key is this instance's F.
  struct TableBound {
    std::string table, column;
    int row_field = -1;
  };
  std::optional<TableBound> bound;
  Mark mark;
};

// An action run on entering a state.
struct Action {
  enum class Kind { kIssue, kNotify, kStart };
  Kind kind = Kind::kIssue;
  int document = -1;                  // kIssue
  // kStart: {start: WORKFLOW, set: {FIELD: VALUE}}: a duty that runs beside
  // this instance, started by the system unless one with those values is
  // running already.
  std::string workflow;
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> notify;    // kNotify: roles or person fields
  std::string template_name;          // kNotify: templates/reminders/T.mustache
  Duration after;                     // kNotify: how long after entering (zero: at once)
  Mark mark;
};

struct DeadlineDef {
  enum class Kind { kAfter, kAtField, kYearly };
  Kind kind = Kind::kAfter;
  Duration after;
  int at_field = -1;
  std::vector<MonthDay> yearly;
  // kYearly with `period: FIELD`: the date due is recorded in that date
  // field, and each new entry takes the first yearly date after the one
  // recorded, so a period passed while late is never skipped.
  int period_field = -1;
  // kAtField on a datetime: `grace: 30 minutes` fires that long after the
  // minute (an interview's no-show is decided once it is clearly missed).
  int grace_minutes = 0;
  std::string event;
  int event_id = -1;
  std::vector<Duration> remind;  // kAtField on a datetime: counted from its day
  std::vector<std::string> notify;  // roles or person fields
  std::string template_name = "reminder";  // templates/reminders/T.mustache
  Mark mark;
};

struct StateDef {
  std::string name;
  std::string title;
  bool initial = false;
  bool final = false;
  std::vector<Action> on_enter;
  std::optional<DeadlineDef> deadline;
  Mark mark;
};

// A transition's input: a field the event may (or must) set.
struct InputDef {
  int field = -1;
  bool required = false;
};

// A constant (or another field's value) written on a transition.
struct Assignment {
  int field = -1;
  Value constant;
  int from_field = -1;  // >= 0: copy that field when it is set
  int today_plus_months = -1;  // >= 0: today + that int field's months (a date field)
  int year_of = -1;  // >= 0: the year of that date field (an int field)
};

struct TransitionDef {
  std::string event;
  int event_id = -1;
  std::vector<int> from;
  int to = -1;  // -1: stay in the current state without re-entering it
  std::vector<std::string> by;  // roles; "system" for deadlines
  int not_by = -1;  // a person field: the actor may not be that person (or their guardian)
  std::optional<Condition> when;   // on the fields as they are: chooses the transition
  std::optional<Condition> check;  // on the fields as it leaves them (input and set applied): refuses it
  std::vector<InputDef> input;
  std::vector<Assignment> set;
  int append_list = -1;  // {append: LIST}: input is a new item
  int update_list = -1;  // {update: LIST}: input is "id" plus the item fields to change
  std::vector<std::pair<int, Value>> item_set;  // {item: {F: V}}: written to the record, not input
  // {flag_changes: {F: G}} with `update:`: an update that changes the
  // record's item field F also sets its bool item field G (a date moved
  // after the plan was agreed is marked for the curator).
  std::vector<std::pair<int, int>> flag_changes;
  std::string title;
  Mark mark;
};

// A list field's records remind of their own date (`remind:` on the list):
// `before` each record's `at` date, while the record matches `while`.
struct ItemReminderDef {
  int list_field = -1;
  int at = -1;  // an item field (a date)
  std::vector<Duration> before;
  std::vector<std::string> notify;
  std::optional<Condition> while_;
  std::string template_name = "item_due";
  // `in: [STATES]`: only while the instance is in one of these (empty: in
  // any state until it finishes); e.g. not while it is suspended.
  std::vector<std::string> in_state_names;
  std::vector<int> in_states;
  Mark mark;
};

// `rating:`: the instances of a workflow in `states` ranked per value of an
// enum field (a direction). Each scores the weight of its kind (an enum
// field's value), times the factor of its result when `factor` is declared;
// a person's score is the sum of theirs, and is shown normalised: 100 for
// the best of the group.
struct RatingDef {
  std::vector<std::string> states;
  int person = -1;     // a person field: whose score it is
  int per = -1;        // an enum field: one ranking per value
  int weight_by = -1;  // an enum field
  std::vector<std::int64_t> weights;  // one per value of weight_by, in its order
  int factor_by = -1;  // an enum field, or -1
  std::vector<std::int64_t> factors;  // one per value of factor_by
  Mark mark;
};

// `attributes:`: a typed attribute people carry (`person add --attr K=V`),
// for breakdowns of the statistics (`stats annual --by K`). An enum
// attribute may declare targets per value: the share of the year's mentees
// it should make up, or the coverage: the share of the registered mentees
// holding it who should be in a pair in the year.
// A target of one value of an enum attribute (`targets:`): a `share` of the
// year's mentees, or a `coverage` of those registered with the value.
struct AttributeTarget {
  std::int64_t percent = 0;
  enum class Compare { kAtLeast, kAtMost, kExactly };  // `compare:` (default at_least)
  Compare compare = Compare::kAtLeast;
  // A share: of the mentees holding one of these values (`among:`; empty:
  // of every mentee of the year).
  std::vector<std::string> among;
  // A coverage: of the distinct values of this other attribute among them
  // (`counting: school`: every school has a mentee in a pair); empty: people.
  std::string counting;
  bool operator==(const AttributeTarget& o) const {
    return percent == o.percent && compare == o.compare && among == o.among && counting == o.counting;
  }
  bool operator!=(const AttributeTarget& o) const { return !(*this == o); }
  // Whether `measured` (a percent to one decimal) meets it; exactly: equal
  // once rounded to a whole percent.
  bool Met(double measured) const {
    switch (compare) {
      case Compare::kAtMost: return measured <= static_cast<double>(percent);
      case Compare::kExactly: return std::llround(measured) == percent;
      case Compare::kAtLeast: break;
    }
    return measured >= static_cast<double>(percent);
  }
};
inline const char* CompareName(AttributeTarget::Compare c) {
  return c == AttributeTarget::Compare::kAtMost ? "at_most" : c == AttributeTarget::Compare::kExactly ? "exactly" : "at_least";
}

struct AttributeDef {
  FieldDef field;
  std::vector<std::optional<AttributeTarget>> share, coverage;  // one per enum value
  Mark mark;
};

struct Definition {
  std::string name;
  int version = 0;
  std::string title;
  // What the personal data of the people it names is processed for
  // (152-FZ art. 9: a consent is given for a purpose); a {consent: [..]}
  // condition asks for the consent of this purpose, and revoking that
  // consent stops the instances of this purpose only.
  std::string purpose = kDefaultPurpose;
  // `purpose: {name: P, achieved_when_done: true}`: an instance that
  // finishes achieves the purpose for the people it names, once none of
  // theirs of that purpose is still running (152-FZ art. 21 part 4): their
  // consent for it expires and the 30-day destruction duty starts.
  bool purpose_achieved_when_done = false;
  std::vector<int> distinct;  // person fields that must name different people
  std::string source_path;
  std::vector<std::string> roles;
  std::vector<std::string> role_titles;  // one per role, "" if none
  std::vector<std::string> started_by;  // roles allowed to start; empty: any role
  std::optional<Condition> start_when;  // must hold, on the fields given, for a start
  std::vector<ItemReminderDef> item_reminders;
  std::optional<RatingDef> rating;
  std::vector<AttributeDef> attributes;
  std::vector<FieldDef> fields;
  std::vector<DocumentDef> documents;
  std::vector<StateDef> states;
  std::vector<TransitionDef> transitions;
  std::vector<std::string> events;  // sorted; an event's id is its index
  int initial_state = -1;

  int FieldIndex(std::string_view n) const;
  int StateIndex(std::string_view n) const;
  int DocumentIndex(std::string_view n) const;
  int EventId(std::string_view n) const;  // binary search, no allocation
  bool HasRole(std::string_view r) const;
  // What people see for a role ("Руководитель организации"); its id if untitled.
  const std::string& RoleTitle(std::string_view r) const;

  // The transitions on `event_id` from `state`, in declaration order.
  std::pair<const int*, const int*> Candidates(int state, int event_id) const {
    const auto& cell = table_[static_cast<size_t>(state) * events.size() + event_id];
    return {table_entries_.data() + cell.first, table_entries_.data() + cell.first + cell.second};
  }

  // Builds the state x event table. Called once by the loader.
  void BuildTable();

 private:
  std::vector<std::pair<std::uint32_t, std::uint32_t>> table_;  // offset, count
  std::vector<int> table_entries_;
};

// Printable form of a value ("" when unset; lists as "N items").
std::string ValueToString(const Value& v);
bool IsSet(const Value& v);

// Parses text into a value of the field's type; nullopt with `error` set when
// the text does not fit (wrong type, enum value not listed, out of range).
std::optional<Value> ParseValue(const FieldDef& f, std::string_view text, std::string* error);

}  // namespace mentorflow
