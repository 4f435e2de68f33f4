// Every message text the engine shows a user, in one place, so that wording
// stays consistent and tests can match it. Messages are English (they are for
// the curator writing YAML and for the person at the command line).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mentorflow::msg {

inline std::string Q(std::string_view s) { return "'" + std::string(s) + "'"; }
inline std::string Suggest(const std::string& s) { return s.empty() ? "" : " (did you mean " + Q(s) + "?)"; }

// ---- files and YAML ------------------------------------------------------
inline std::string FileTooLarge(size_t size, size_t max) {
  return "file is too large (" + std::to_string(size) + " bytes; at most " + std::to_string(max) +
         " are accepted)";
}
inline std::string NotUtf8() { return "file is not valid UTF-8 here; save it as UTF-8"; }
inline std::string TooManyNodes() {
  return "document is too large or expands too many aliases; refusing to read further";
}
inline std::string YamlSyntax(const std::string& m) { return "YAML syntax: " + m; }
inline std::string UnexpectedShape(const std::string& m) { return "unexpected YAML shape near here (" + m + ")"; }
inline std::string EmptyFile() { return "file is empty: expected a workflow (a mapping with 'workflow:', 'version:', ...)"; }
inline std::string IsDirectory() { return "is a directory, not a workflow file"; }
inline std::string CannotRead() { return "cannot read this file"; }
inline std::string NoSuchFile() { return "no such file or directory"; }
inline std::string DuplicateWorkflow(const std::string& name, const std::string& other) {
  return "workflow " + Q(name) + " is already defined in " + other;
}

// ---- shapes and keys -----------------------------------------------------
inline std::string Expected(std::string_view what, std::string_view where) {
  return "expected " + std::string(what) + " for " + std::string(where);
}
inline std::string BadIdentifier(const std::string& s, std::string_view what) {
  return Q(s) + " is not a valid " + std::string(what) +
         " name (lower-case letters, digits and '_', starting with a letter)";
}
inline std::string NotBool(const std::string& s, std::string_view what) {
  return std::string(what) + ": " + Q(s) + " is not true or false";
}
inline std::string BadValue(std::string_view what, const std::string& err) { return std::string(what) + ": " + err; }
inline std::string DuplicateKey(const std::string& k, std::string_view where) {
  return "key " + Q(k) + " appears twice in " + std::string(where);
}
inline std::string UnknownKey(const std::string& k, std::string_view where, const std::string& suggestion) {
  return "unknown key " + Q(k) + " in " + std::string(where) + Suggest(suggestion);
}
inline std::string MissingKey(std::string_view k, std::string_view where) {
  return "missing key " + Q(k) + " in " + std::string(where);
}
inline std::string BadVersion() { return "version must be a whole number from 1"; }
inline std::string SystemRoleDeclared() { return "'system' is built in (deadlines act as it); do not declare it"; }
inline std::string Duplicate(std::string_view kind, const std::string& name) {
  return std::string(kind) + " " + Q(name) + " is declared twice";
}
inline std::string Unknown(std::string_view kind, const std::string& name, const std::string& suggestion) {
  return "unknown " + std::string(kind) + " " + Q(name) + Suggest(suggestion);
}

// ---- fields and documents ------------------------------------------------
inline std::string BadItemType(const std::string& t) { return "a list item field cannot be of type " + Q(t); }
inline std::string KeyOnlyFor(std::string_view key, std::string_view type) {
  return Q(key) + " applies only to " + std::string(type);
}
inline std::string EnumNeedsValues(const std::string& name) {
  return "enum field " + Q(name) + " needs 'values:', a non-empty list or a mapping of value: title";
}
inline std::string MinAboveMax() { return "min is greater than max"; }
inline std::string ItemIdReserved() { return "'id' is given to every item by the engine; choose another name"; }
inline std::string ListNoDefault() { return "a list field starts empty and takes no default"; }
inline std::string TemplateUnknownField(const std::string& where, const std::string& field,
                                        const std::string& workflow, const std::string& suggestion) {
  return "template " + where + " prints fields." + field + ", but workflow '" + workflow + "' has no field '" + field +
         "'" + (suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)");
}
inline std::string UnknownTemplate(const std::string& t, const std::string& dir) {
  return "unknown template " + Q(t) + ": no file " + t + ".mustache in " + dir;
}
inline std::string UnknownSigner(const std::string& s, const std::string& suggestion) {
  return "unknown signer " + Q(s) + ": name a role or a person field" + Suggest(suggestion);
}

inline std::string CollectiveNeeds(const std::string& doc, std::string_view key) {
  return "collective document " + Q(doc) + " (collects:) needs " + Q(key);
}
inline std::string CollectiveSigner(const std::string& doc, const std::string& field) {
  return "collective document " + Q(doc) + " lists many instances: its signers are roles, and " + Q(field) +
         " is a person field";
}
inline std::string CollectiveIssuedOnEnter(const std::string& doc) {
  return "document " + Q(doc) + " is collective (collects:): it is issued by 'doc issue', not on entering a state";
}
inline std::string OnSignedNotFrom(const std::string& doc, const std::string& event, const std::string& state) {
  return "document " + Q(doc) + " sends " + Q(event) + " to the instances in state " + Q(state) +
         ", but no transition takes " + Q(event) + " from " + Q(state);
}
inline std::string OnSignedNotBySigner(const std::string& doc, const std::string& event, const std::string& signer) {
  return "document " + Q(doc) + " sends " + Q(event) + " as its signer " + Q(signer) + ", but no transition on " +
         Q(event) + " may be sent by " + Q(signer);
}

inline std::string NoTitle(std::string_view kind, const std::string& name) {
  return std::string(kind) + " " + Q(name) + " has no title: people would read " + Q(name) +
         " (add title: in Russian)";
}
inline std::string NoValueTitle(const std::string& field, const std::string& value) {
  return "enum value " + Q(value) + " of field " + Q(field) +
         " has no title: people would read it as is (write values: {" + value + ": Название})";
}

// ---- states, deadlines, transitions --------------------------------------
inline std::string InitialAndFinal(const std::string& s) { return "state " + Q(s) + " cannot be both initial and final"; }
inline std::string ActionKind() {
  return "an action is one of {issue: DOCUMENT}, {notify: ROLES} or {start: WORKFLOW, set: {FIELD: VALUE}}";
}
inline std::string YearOf(const std::string& src, const std::string& dst) {
  return "{year_of: " + src + "} needs a date field, written into an int field (" + Q(dst) + " is not)";
}
inline std::string DeadlineBoth() { return "a deadline has either 'after' or 'at', not both"; }
inline std::string DeadlineNeither() {
  return "a deadline needs 'after: DURATION' or 'at: DATE_FIELD' or 'at: {yearly: [MM-DD]}'";
}
inline std::string BadDuration(const std::string& t) {
  return "bad duration " + Q(t) + " (write e.g. '14 days', '2 weeks', '9 months', '1 year' or 'P14D')";
}
inline std::string BadMonthDay(const std::string& t) {
  return "bad yearly date " + Q(t) + " (write MM-DD, e.g. '12-20'; 02-29 does not recur)";
}
inline std::string DeadlineFieldNotDate(const std::string& f, std::string_view type) {
  return "deadline 'at' names field " + Q(f) + " of type " + std::string(type) + "; it must be a date or a datetime";
}
inline std::string StatisticsYearNotInt(const std::string& f, std::string_view type) {
  return "statistics 'annual' names field " + Q(f) + " of type " + std::string(type) +
         "; it must be an int (the year whose figures the document carries)";
}
inline std::string StatisticsOnCollective(const std::string& doc) {
  return "document " + Q(doc) + " collects instances: a collective document cannot carry statistics";
}
inline std::string BadGrace(const std::string& text) {
  return "grace: '" + text + "' is not a span like '30 minutes' or '2 hours' (up to 24 hours)";
}
inline std::string GraceNeedsDateTime() {
  return "grace: only a deadline 'at' a datetime field waits a grace period after its minute";
}
inline std::string PeriodNeedsYearly() {
  return "'period' belongs to a yearly deadline (at: {yearly: [MM-DD]}): it records which of the dates is due";
}
inline std::string PeriodFieldNotDate(const std::string& f, std::string_view type) {
  return "deadline 'period' names field " + Q(f) + " of type " + std::string(type) + "; it must be a date";
}
inline std::string ItemWithoutListOp() {
  return "'item' sets fields of a list record: it goes with 'append: LIST' or 'update: LIST'";
}
inline std::string FlagChangesWithoutUpdate() {
  return "'flag_changes' marks a changed field of a list record: it goes with 'update: LIST'";
}
inline std::string FlagNotBool(const std::string& g, const std::string& type) {
  return "'flag_changes' sets " + Q(g) + " to true, so it must be a bool item field (it is " + type + ")";
}
inline std::string ItemFixed(const std::string& k, const std::string& e) {
  return "event " + Q(e) + " sets " + Q(k) + " itself; it is not an input";
}
inline std::string FromParentPlace() {
  return "'from_parent' belongs to a field of the workflow itself, not to an input or a list item";
}
inline std::string FromParentDiffers(const std::string& f, const std::string& given, const std::string& parent,
                                     const std::string& pv) {
  return "parent: " + Q(f) + " is " + Q(pv) + " on the parent " + parent + "; it cannot be " + Q(given) + " here";
}
inline std::string StartWhenCannot(std::string_view kind) {
  return "'start_when' cannot use '" + std::string(kind) + "': an instance being started has no " +
         (kind == "signed" ? "documents" : "children") + " yet";
}
inline std::string FinalDeadline(const std::string& s) { return "final state " + Q(s) + " cannot have a deadline"; }
inline std::string NoTransitionHandles() { return ": no transition handles it"; }
inline std::string DeadlineEventNotFromState(const std::string& e, const std::string& s) {
  return "deadline event " + Q(e) + " has no transition from state " + Q(s) + " with 'by: system'";
}
inline std::string AppendAndUpdate() { return "a transition either appends to or updates a list, not both"; }
inline std::string InputWithListOp(std::string_view key) {
  return "'input' cannot be combined with '" + std::string(key) + "': the item fields are the input";
}
inline std::string NotByPerson(const std::string& f, std::string_view type) {
  return "not_by names a person field: field " + Q(f) + " is " + std::string(type) + ", not person";
}
inline std::string NotAList(const std::string& f, std::string_view type) {
  return "field " + Q(f) + " is " + std::string(type) + ", not a list";
}
inline std::string InputNeedsType(const std::string& f) {
  return "input " + Q(f) + " is not a field; declare it under 'fields' or give it a 'type'";
}
inline std::string ListInput(const std::string& f) {
  return "list field " + Q(f) + " is changed with 'append' or 'update', not set directly";
}
inline std::string InputTypeMismatch(const std::string& f, const std::string& given, std::string_view declared) {
  return "input " + Q(f) + " says type " + Q(given) + " but the field is " + std::string(declared);
}
inline std::string CopyTypeMismatch(const std::string& src, const std::string& dst) {
  return "cannot copy field " + Q(src) + " into " + Q(dst) + ": their types differ";
}

inline std::string TodayPlusMonths(const std::string& src, const std::string& dst) {
  return "{today_plus_months: " + src + "} needs an int field, written into a date field (" + Q(dst) + " is not)";
}

// ---- conditions ----------------------------------------------------------
inline std::string ConditionTooDeep(int n) { return "condition nested deeper than " + std::to_string(n) + " levels"; }
inline std::string ConditionKindMissing(const std::string& hint) {
  return "a condition needs one of: field, present, all, any, not, signed, consent, children, count, every, age" +
         Suggest(hint);
}
inline std::string ConditionKindMany(const std::vector<std::string>& found) {
  std::string all;
  for (const auto& f : found) all += (all.empty() ? "" : ", ") + f;
  return "a condition has one kind, this one has several (" + all + "); combine them with 'all' or 'any'";
}
inline std::string ConsentNeedsPerson(const std::string& f, std::string_view type) {
  return "consent is given by people: field " + Q(f) + " is " + std::string(type) + ", not person";
}
inline std::string AgeNeedsPerson(const std::string& f, std::string_view type) {
  return "age is a person's: field " + Q(f) + " is " + std::string(type) + ", not person";
}
inline std::string AgeNeedsOneBound() { return "an age condition needs exactly one of eq, lt, le, gt, ge: whole years"; }
inline std::string AgeRange(std::int64_t n) {
  return "an age is a whole number of years from 0 to 150, not " + std::to_string(n);
}
inline std::string CountNeedsOneBound() { return "a count condition needs exactly one of eq, lt, le, gt, ge"; }
inline std::string CompareNeedsOneOp() { return "a field condition needs exactly one of eq, ne, lt, le, gt, ge, in"; }
inline std::string CompareList(const std::string& f) {
  return "list field " + Q(f) + " cannot be compared; use {every: ..., match: ...} or {present: ...}";
}
inline std::string CannotOrder(const std::string& f, std::string_view type, const std::string& op) {
  return "field " + Q(f) + " is " + std::string(type) + "; '" + op + "' needs an int or a date (or a datetime)";
}
inline std::string ConditionType(const std::string& f, std::string_view type, const std::string& err) {
  return "condition on " + Q(f) + " (" + std::string(type) + "): " + err;
}
inline std::string CompareFieldTypes(const std::string& f, std::string_view ft, const std::string& g,
                                     std::string_view gt) {
  return "field " + Q(f) + " (" + std::string(ft) + ") cannot be compared with field " + Q(g) + " (" +
         std::string(gt) + "); fields of one type (or a date and a datetime, by day) can";
}
inline std::string NowOnDate(const std::string& f) {
  return "field " + Q(f) + " is a date: compare it with 'today' ('now' is for a datetime)";
}
inline std::string TableRowType(const std::string& f, std::string_view type) {
  return "a table's row is found by a string, enum or int field; " + Q(f) + " is " + std::string(type);
}
inline std::string UnknownTable(const std::string& t, const std::string& suggestion) {
  return "unknown table " + Q(t) + ": no file tables/" + t + ".csv beside the workflows" + Suggest(suggestion);
}
inline std::string UnknownColumn(const std::string& t, const std::string& c, const std::string& suggestion) {
  return "table " + Q(t) + " has no column " + Q(c) + Suggest(suggestion);
}
inline std::string CellNotNumber(const std::string& c, const std::string& key, const std::string& cell,
                                 const std::string& file, int line) {
  return "column " + Q(c) + " of row " + Q(key) + " is " + Q(cell) +
         ", not a whole number from 0 (it is a bound in " + file + " at line " + std::to_string(line) + ")";
}
inline std::string WhereFieldTypes(const std::string& f, std::string_view ft, std::string_view own) {
  return "field " + Q(f) + " of the counted workflow is " + std::string(ft) + ", the field it is matched with " +
         std::string(own);
}
inline std::string RatingFieldType(const std::string& key, const std::string& f, std::string_view type,
                                   std::string_view want) {
  return "a rating's " + Q(key) + " names field " + Q(f) + " of type " + std::string(type) + "; it must be " +
         std::string(want);
}
inline std::string RatingNumber(const std::string& v) {
  return "the number for " + Q(v) + " must be a whole number from 0 to 1000000";
}
inline std::string RatingMissingValue(const std::string& key, const std::string& f, const std::string& v) {
  return "a rating's " + key + " gives no number for " + Q(v) + " (every value of " + Q(f) + " needs one)";
}
inline std::string TargetsOnlyOnAttributes() {
  return "'targets' belongs to an attribute (attributes:), not to a field";
}
inline std::string AttributeKey(const std::string& key) {
  return Q(key) + " is not for an attribute: a person carries it or not";
}
inline std::string AttributeType(std::string_view type) {
  return "an attribute is a string, int, bool, date or enum, not " + std::string(type);
}
inline std::string TargetsNeedEnum() { return "targets are per value: only an enum attribute has them"; }
inline std::string TargetPercent(const std::string& v) {
  return "a target for " + Q(v) + " is a whole percent from 0 to 100";
}
inline std::string TargetKeyNeeds(const std::string& key, const std::string& measure) {
  return Q(key) + " goes with " + Q(measure) + " in a target";
}
inline std::string AmongWithoutItself(const std::string& v) {
  return "the share of " + Q(v) + " is taken among values that include it: add " + Q(v) + " to among";
}
inline std::string CountsItself(const std::string& a) {
  return "a coverage of " + Q(a) + " counts another attribute (a school), not " + Q(a) + " itself";
}
inline std::string SharesOver100(long long sum) {
  return "the target shares add up to " + std::to_string(sum) + "%, more than 100%";
}
inline std::string AttributeDiffers(const std::string& a, const std::string& file) {
  return "attribute " + Q(a) + " is declared differently in " + file + "; declare it once, or the same way";
}
inline std::string DuplicateTable(const std::string& t, const std::string& other) {
  return "table " + Q(t) + " is also " + other + "; a table name appears once";
}

// ---- the machine ---------------------------------------------------------
inline std::string NoInitial() { return "no initial state: mark one state with 'initial: true'"; }
inline std::string SeveralInitial(const std::string& s, const std::string& first) {
  return "state " + Q(s) + " is initial, but so is " + Q(first) + "; a workflow has one initial state";
}
inline std::string Unreachable(const std::string& s) {
  return "state " + Q(s) + " is unreachable from the initial state";
}
inline std::string FinalLeft(const std::string& s, const std::string& e) {
  return "final state " + Q(s) + " cannot be left, but event " + Q(e) + " leaves it";
}
inline std::string NoWayOut(const std::string& s) {
  return "state " + Q(s) + " is not final and has no transition to another state";
}
inline std::string Ambiguous(const std::string& e, const std::string& s, int other_line) {
  return "transitions on " + Q(e) + " from " + Q(s) + " (here and at line " + std::to_string(other_line) +
         ") can both fire; give them conditions that exclude each other";
}

inline std::string GuardianOfItself(const std::string& f) {
  return "field " + Q(f) + " cannot be the guardian of itself";
}
inline std::string DistinctNeedsTwo() { return "'distinct' lists at least two person fields"; }

// ---- dispatch refusals ---------------------------------------------------
inline std::string UnknownEvent(const std::string& e, const std::string& w, const std::string& suggestion) {
  return "workflow " + Q(w) + " has no event " + Q(e) + Suggest(suggestion);
}
inline std::string NotInState(const std::string& e, const std::string& s) {
  return "event " + Q(e) + " is not allowed in state " + Q(s);
}
inline std::string FinalState(const std::string& s) { return "the instance is finished (state " + Q(s) + ")"; }
inline std::string WrongRole(const std::string& e, const std::string& allowed) {
  return "role: " + Q(e) + " may be sent only by " + allowed;
}
inline std::string NotThatPerson(const std::string& actor, const std::string& role, const std::string& fields) {
  return "role: " + actor + " acts as " + role + " only on instances where they are " + fields;
}
inline std::string NotByThem(const std::string& actor, const std::string& e, const std::string& field,
                             const std::string& person) {
  return "role: " + actor + " may not send " + Q(e) + " on an instance whose " + field + " is " +
         (actor == person ? "themselves" : person + ", their ward") + " (someone else must)";
}
inline std::string SamePerson(const std::string& person, const std::string& a, const std::string& b) {
  return "person: " + person + " cannot be both " + a + " and " + b + " of one instance";
}
inline std::string NotTheGuardian(const std::string& field, const std::string& person, const std::string& of_field,
                                  const std::string& child, const std::string& registered) {
  return "person: " + field + " must be the registered guardian of " + of_field + " " + child + " (" +
         (registered.empty() ? "who has none registered" : registered) + "), not " + person;
}
inline std::string NoParent(const std::string& id) { return "no instance " + Q(id) + " (the parent)"; }
inline std::string ParentFinished(const std::string& id, const std::string& state) {
  return "parent: instance " + Q(id) + " is finished (state " + Q(state) + ")";
}
inline std::string NotTheirParent(const std::string& actor, const std::string& role, const std::string& parent) {
  return "role: " + actor + " acts as " + role + " only under instances where they are the " + role + "; " + parent +
         " is not theirs";
}
inline std::string StartRole(const std::string& w, const std::string& allowed) {
  return "role: workflow " + Q(w) + " may be started only by " + allowed;
}
inline std::string MinorActs(const std::string& minor, const std::string& day, const std::string& guardian,
                             const std::string& event) {
  return "minor: " + minor + " is under 14 on " + day + ", so their legal representative" +
         (guardian.empty() ? std::string(" (none is registered yet)") : " " + guardian) + " sends " + Q(event) +
         " in their place";
}
inline std::string StartCondition(const std::string& w, const std::string& what) {
  return "condition: " + Q(w) + " starts only with " + what + " (its start_when)";
}
inline std::string ConditionFailed(const std::string& e, const std::string& what) {
  return "condition: " + Q(e) + " needs " + what;
}
inline std::string CheckFailed(const std::string& e, const std::string& what) {
  return "condition: " + Q(e) + " needs, with the values given, " + what;
}
inline std::string NotAnInput(const std::string& k, const std::string& e, const std::string& allowed) {
  return "event " + Q(e) + " does not take " + Q(k) + (allowed.empty() ? "" : " (it takes: " + allowed + ")");
}
inline std::string MissingInput(const std::string& k, const std::string& e) {
  return "event " + Q(e) + " needs --set " + k + "=...";
}
inline std::string UnknownField(const std::string& k, const std::string& w) {
  return "workflow " + Q(w) + " has no field " + Q(k);
}
inline std::string MissingField(const std::string& k) { return "field " + Q(k) + " is required: --set " + k + "=..."; }
inline std::string BadInputValue(const std::string& k, const std::string& err) { return Q(k) + ": " + err; }
inline std::string PersonLacksRole(const std::string& k, const std::string& id, const std::string& role) {
  return Q(k) + ": person " + Q(id) + " is unknown or does not hold the role " + Q(role);
}
inline std::string UnknownItem(const std::string& id, const std::string& list) {
  return "list " + Q(list) + " has no item " + Q(id);
}
inline std::string NoActorRole(const std::string& actor) {
  return "role: " + Q(actor) + " holds no role of this workflow";
}

}  // namespace mentorflow::msg
