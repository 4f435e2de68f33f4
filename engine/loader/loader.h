// Private to engine/loader/: the reading of one workflow file. One class,
// its parts beside the part of the language each reads:
//   yaml.cpp         the YAML reading layer: size, UTF-8, the node budget,
//                    marks, and the shape checks every other part goes through
//   workflow.cpp     the top level: name, version, titles, roles, who starts
//   fields.cpp       fields, their types and item reminders; distinct
//   documents.cpp    documents and the templates they print
//   states.cpp       states, their actions and deadlines
//   transitions.cpp  transitions: inputs, set/append/update
//   conditions.cpp   conditions (when:, start_when:, count:)
//   rating.cpp       rating: the ranking of a workflow's instances;
//                    attributes: what people carry for the breakdowns
//   checks.cpp       the definition as a whole: reachability, dead ends,
//                    titles, determinism and its guard algebra
//   catalog.cpp      files, the catalog, references across workflows
// The "did you mean" helper is engine/suggest.h, shared with dispatch.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "engine/loader.h"
#include "engine/table.h"
#include "engine/text.h"
#include "engine/messages.h"
#include "engine/suggest.h"

namespace mentorflow::loading {

namespace fs = std::filesystem;

constexpr int kMaxConditionDepth = 32;
constexpr long kNodeBudget = 200000;

inline const std::vector<std::string> kTopKeys = {"workflow", "version", "title", "description", "roles",
                                           "started_by", "start_when", "fields", "distinct", "documents", "states",
                                           "transitions", "rating", "attributes", "purpose"};
inline const std::vector<std::string> kFieldKeys = {"type", "title", "role", "required", "default",
                                             "min", "max", "values", "item", "guardian_of", "from_parent", "remind",
                                             "targets"};
inline const std::vector<std::string> kDocumentKeys = {"template", "signers", "title", "collects", "issued_by", "on_signed",
                                                "statistics"};
inline const std::vector<std::string> kStateKeys = {"initial", "final", "title", "description", "on_enter",
                                             "deadline"};
inline const std::vector<std::string> kActionKeys = {"issue", "notify", "template", "after", "start", "set"};
inline const std::vector<std::string> kDeadlineKeys = {"after", "at", "event", "remind", "notify", "template", "period", "grace"};
inline const std::vector<std::string> kTransitionKeys = {"on", "from", "to", "by", "when", "check", "input",
                                                  "set", "append", "update", "item", "title", "not_by",
                                                  "flag_changes"};
inline const std::vector<std::string> kTypes = {"string", "int", "bool", "date", "enum", "person", "list", "datetime"};
inline const std::vector<std::string> kCompareOps = {"eq", "ne", "lt", "le", "gt", "ge", "in"};

bool IsIdentifier(std::string_view s);

class Loader {
 public:
  Loader(std::string file, const LoadOptions& opts) : file_(std::move(file)), opts_(opts) {}

  LoadResult Run(std::string_view text);

 private:
  // ---- diagnostics -------------------------------------------------------
  void Error(Mark m, std::string message) { errors_.push_back({file_, m, std::move(message)}); }
  // What people would see in English: a warning, or with --strict an error.
  void Untitled(Mark m, std::string message);
  Mark M(const YAML::Node& n, Mark fallback = {}) const;
  // Counts a visited node against the budget (alias bombs), and remembers
  // where we are for errors about values that are missing altogether.
  bool Spend(const YAML::Node& n);

  // ---- shapes ------------------------------------------------------------
  // yaml-cpp throws when a missing key's node is asked its type: every shape
  // check goes through these helpers, which test IsDefined() first.
  bool IsMap(const YAML::Node& n, std::string_view what);
  std::optional<std::string> Scalar(const YAML::Node& n, std::string_view what);
  std::optional<std::string> Name(const YAML::Node& n, std::string_view what);
  // A scalar or a sequence of scalars.
  std::vector<std::pair<std::string, Mark>> Names(const YAML::Node& n, std::string_view what);
  std::optional<bool> Bool(const YAML::Node& n, std::string_view what);
  std::optional<std::int64_t> Int(const YAML::Node& n, std::string_view what);
  // Reports keys not in `known` (with a suggestion) and duplicated keys.
  void CheckKeys(const YAML::Node& n, const std::vector<std::string>& known, std::string_view where);
  Mark KeyMark(const YAML::Node& map, std::string_view key);

  // ---- top level ---------------------------------------------------------
  void Parse(std::string_view text);

  void ParseRoot(const YAML::Node& root);

  void ParseRoles(const YAML::Node& n, Mark root_mark);

  // A list field's `remind: {at: DATE_ITEM_FIELD, before: [DURATIONS],
  // notify: [..], while: CONDITION_ON_ITEM}`: each record's own date reminds.
  void ParseItemReminders(const YAML::Node& fields);
  void ResolveItemReminderStates();

  bool CheckRole(const std::string& r, Mark m, bool allow_system = false);

  // ---- fields ------------------------------------------------------------
  // `for_input`: an input that declares a new field; its `required` is the
  // transition's, not the field's.
  std::optional<FieldDef> ParseField(const std::string& name, const YAML::Node& key, const YAML::Node& n,
                                     bool in_list, bool for_input = false);

  void ParseFields(const YAML::Node& n);

  // The index of person field `name`, or -1 (and an error at `m`).
  int PersonField(const std::string& name, Mark m);

  // distinct: [mentor, mentee] -- these person fields never name the same person.
  void ParseDistinct(const YAML::Node& n);
  void ParseRating(const YAML::Node& n);  // rating.cpp
  void ParseAttributes(const YAML::Node& n);  // rating.cpp: what statistics read of people

  // ---- documents ---------------------------------------------------------
  // Document templates are DIR/T.mustache; reminder templates DIR/reminders/T.mustache.
  bool TemplateExists(const std::string& t, bool reminder) const;
  void CheckTemplate(const std::string& t, Mark m, bool reminder = false);
  void CheckReminderTemplate(const std::string& t, Mark m) { CheckTemplate(t, m, true); }

  // A document template may print `fields.X` (and `fields.X_title` for an
  // enum X) only for fields X this workflow has: a misspelt or stale name
  // would print nothing on a document people sign. Each `{{...}}` tag is
  // looked at; the error is at the document's `template:` and names the
  // template's own line and column.
  void CheckTemplateFields(const std::string& t, Mark m);

  // Who a reminder goes to: a role, or a person field (that person).
  bool CheckRecipient(const std::string& r, Mark m);

  void ParseDocuments(const YAML::Node& n);

  // statistics: {annual: FIELD}, FIELD an int field holding the year.
  void ParseDocumentStatistics(const YAML::Node& st, bool collective, DocumentDef& doc);

  // After the states are known and the event table built: what a
  // collective document collects, and the event its signature sends.
  void CheckCollectiveDocuments();

  // ---- states ------------------------------------------------------------
  void PreParseStates(const YAML::Node& n);

  int ResolveState(const std::string& s, Mark m);

  int ResolveDocument(const std::string& d, Mark m);

  const FieldDef* ResolveField(const std::string& name, Mark m, const std::vector<FieldDef>& scope, int* index);

  void ParseStates(const YAML::Node& n);

  void ParseActions(const YAML::Node& n, StateDef& s);

  void ParseDeadline(const YAML::Node& n, StateDef& s);

  // ---- transitions -------------------------------------------------------
  // Inputs may declare new fields; they are registered before any condition
  // is read, so that a condition may refer to a field another transition sets.
  void PreParseInputs(const YAML::Node& n);

  void ParseTransitions(const YAML::Node& n);

  void ParseTransition(const YAML::Node& t);

  bool ParseInput(const YAML::Node& n, TransitionDef& tr);

  bool ParseSet(const YAML::Node& n, TransitionDef& tr);

  // ---- conditions --------------------------------------------------------
  std::optional<Condition> ParseCondition(const YAML::Node& n, const std::vector<FieldDef>& scope, int depth);

  std::optional<Condition> ParseCompare(const YAML::Node& n, const std::vector<FieldDef>& scope, Condition& c);

  // ---- the machine as a whole --------------------------------------------
  void CheckMachine();

  void CheckStartCondition(const Condition& c);

  // Everything a person reads — in documents, reminders, pages, history —
  // has a title in the YAML, never the English identifier.
  void CheckTitles(Mark root);

  void CheckDeadlineEvent(int state);

  // ---- exclusivity of guards ---------------------------------------------
  static void Conjuncts(const Condition& c, std::vector<const Condition*>& out);

  static bool Same(const Condition& a, const Condition& b);

  // The set of values a comparison admits, as an interval or a finite set.
  struct Admits {
    std::optional<Value> lo, hi;
    bool lo_open = false, hi_open = false;
    std::optional<std::vector<Value>> set;  // eq / in
    std::optional<Value> except;            // ne
  };
  static Admits AdmitsOf(const Condition& c);
  static bool Admitted(const Admits& a, const Value& v);
  static bool Contradict(const Condition& x, const Condition& y);
  static bool Exclusive(const std::optional<Condition>& a, const std::optional<Condition>& b);

 public:
  // References to other workflows, checked by the Catalog.
  struct CrossRef {
    std::string workflow;
    std::string state;  // empty: only the workflow must exist
    Mark mark;
    std::string where;  // "field=value" for count's where
    std::string field = {};  // count's {F: {field: G}}: F, which must match G's type
    FieldType own_type = FieldType::kString;
    std::vector<std::string> own_values = {};
  };
  std::vector<CrossRef> cross_refs_;
  // A count's bound read from a data table: the table and its column must
  // exist, and every cell of the column be a whole number.
  struct TableRef {
    std::string table, column;
    Mark table_mark, column_mark;
  };
  std::vector<TableRef> table_refs_;

 private:
  std::string file_;
  const LoadOptions& opts_;
  Definition def_;
  std::vector<Diagnostic> errors_, warnings_;
  bool parsing_attribute_ = false;  // ParseField reads an attribute: `targets` allowed
  long budget_ = kNodeBudget;
  Mark last_mark_{1, 1};
  bool budget_reported_ = false;
  std::map<std::string, Mark> deadline_event_marks_;
  std::vector<Mark> role_marks_;  // one per role
  std::vector<Mark> item_reminder_state_marks_;  // one per name in the item reminders' `in:`
  std::set<int> declared_by_input_;  // positions of inputs that declared a field
};

}  // namespace mentorflow::loading
