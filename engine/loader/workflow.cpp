// The top level of a workflow file: its name, version and titles, the roles
// and who may start it.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::ParseRoot(const YAML::Node& root) {
  CheckKeys(root, kTopKeys, "a workflow");

  if (!root["workflow"]) Error(M(root), msg::MissingKey("workflow", "a workflow"));
  else if (auto n = Name(root["workflow"], "workflow")) def_.name = *n;
  if (!root["version"]) {
    Error(M(root), msg::MissingKey("version", "a workflow"));
  } else if (auto v = Int(root["version"], "version")) {
    if (*v < 1 || *v > 1000000) Error(M(root["version"]), msg::BadVersion());
    else def_.version = static_cast<int>(*v);
  }
  if (root["title"]) def_.title = Scalar(root["title"], "title").value_or("");
  if (const YAML::Node p = root["purpose"]; p && p.IsMap()) {  // {name: P, achieved_when_done: true}
    CheckKeys(p, {"name", "achieved_when_done"}, "a purpose");
    if (!p["name"]) Error(M(p), msg::MissingKey("name", "a purpose"));
    else if (auto n = Name(p["name"], "purpose")) def_.purpose = *n;
    if (p["achieved_when_done"])
      def_.purpose_achieved_when_done = Bool(p["achieved_when_done"], "achieved_when_done").value_or(false);
  } else if (p) {
    if (auto n = Name(p, "purpose")) def_.purpose = *n;
  }

  ParseRoles(root["roles"], M(root));
  ParseFields(root["fields"]);
  ParseItemReminders(root["fields"]);
  ParseDistinct(root["distinct"]);
  ParseDocuments(root["documents"]);
  if (!root["states"]) Error(M(root), msg::MissingKey("states", "a workflow"));
  else PreParseStates(root["states"]);
  if (root["started_by"]) {
    for (auto& [r, m] : Names(root["started_by"], "started_by")) {
      CheckRole(r, m, /*allow_system=*/true);  // started by mentorflow itself
      def_.started_by.push_back(r);
    }
  }
  if (!root["transitions"]) Error(M(root), msg::MissingKey("transitions", "a workflow"));
  else PreParseInputs(root["transitions"]);
  if (root["start_when"]) {
    // Read on the fields the instance is started with: a new instance has
    // no documents and no children yet, so those conditions never hold.
    def_.start_when = ParseCondition(root["start_when"], def_.fields, 0);
    if (def_.start_when) CheckStartCondition(*def_.start_when);
  }
  if (root["states"]) ParseStates(root["states"]);
  ResolveItemReminderStates();
  if (root["transitions"]) ParseTransitions(root["transitions"]);
  if (root["rating"]) ParseRating(root["rating"]);
  if (root["attributes"]) ParseAttributes(root["attributes"]);
  if (!errors_.empty()) return;
  def_.BuildTable();
  CheckCollectiveDocuments();
  if (!errors_.empty()) return;
  CheckMachine();
  CheckTitles(M(root));
}

void Loader::ParseRoles(const YAML::Node& n, Mark root_mark) {
  if (!n) {
    Error(root_mark, msg::MissingKey("roles", "a workflow"));
    return;
  }
  // roles: [a, b] or, with the titles people see, roles: {a: Title, b: Title}
  auto add = [&](const std::string& r, Mark m, std::string title) {
    if (!IsIdentifier(r)) Error(m, msg::BadIdentifier(r, "role"));
    else if (r == "system") Error(m, msg::SystemRoleDeclared());
    else if (def_.HasRole(r)) Error(m, msg::Duplicate("role", r));
    else {
      def_.roles.push_back(r);
      def_.role_titles.push_back(std::move(title));
      role_marks_.push_back(m);
    }
  };
  if (n.IsMap()) {
    for (const auto& it : n) {
      auto r = Scalar(it.first, "role");
      auto t = Scalar(it.second, "role title");
      if (r) add(*r, M(it.first), t.value_or(""));
    }
    return;
  }
  for (auto& [r, m] : Names(n, "roles")) add(r, m, "");
}

bool Loader::CheckRole(const std::string& r, Mark m, bool allow_system) {
  if (def_.HasRole(r) || (allow_system && r == "system")) return true;
  auto all = def_.roles;
  if (allow_system) all.push_back("system");
  Error(m, msg::Unknown("role", r, Closest(r, all)));
  return false;
}

}  // namespace mentorflow::loading
