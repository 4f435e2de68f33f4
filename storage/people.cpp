// People, their roles and personal data, and consent (as rules.h decides).
#include <algorithm>

#include "storage/statements.h"

namespace mentorflow::storage {

std::vector<std::string> SociStore::DeclaredRoles() {
  std::vector<std::pair<std::string, long long>> defs;
  {
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT name, version FROM workflow_definitions");
    for (const auto& r : rs) defs.push_back({r.get<std::string>(0), RowInt(r, 1)});
  }
  std::vector<std::string> roles;
  for (const auto& [name, version] : defs) {
    Status st;
    if (const Definition* d = DefinitionFor(name, static_cast<int>(version), &st))
      for (const auto& r : d->roles)
        if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  std::sort(roles.begin(), roles.end());
  return roles;
}

Status SociStore::AddPerson(const PersonRecord& p, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (p.id.empty()) return Status::BadInput("a person id cannot be empty");
    if (p.id == "system") return Status::BadInput("'system' is reserved (deadlines act as it); choose another id");
    if (p.roles.empty()) return Status::BadInput("a person needs at least one --role");
    if (!p.birth.empty() && !ParseDate(p.birth)) return Status::BadInput("--birth: '" + p.birth + "' is not a date");
    if (!p.email.empty() && (p.email.find('@') == std::string::npos || p.email.find_first_of(" \r\n<>,") != std::string::npos))
      return Status::BadInput("--email: '" + p.email + "' is not an e-mail address");
    Tx tx(*this);
    const auto declared = DeclaredRoles();
    for (const auto& r : p.roles) {
      if (r == "system") return Status::BadInput("role 'system' is reserved: no person can hold it");
      if (std::find(declared.begin(), declared.end(), r) == declared.end()) {
        std::string list;
        for (const auto& d : declared) list += (list.empty() ? "" : ", ") + d;
        return Status::BadInput("role '" + r + "' is not declared by any registered workflow (roles: " + list + ")");
      }
    }
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(p.id);
    if (n > 0) return Status::Conflict("person '" + p.id + "' already exists");
    if (!p.guardian.empty()) {
      *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(p.guardian);
      if (n == 0) return Status::NotFound("no person '" + p.guardian + "' (the guardian)");
    }
    std::string created = FormatInstant(now.instant);
    soci::indicator gi = p.guardian.empty() ? soci::i_null : soci::i_ok;
    *sql_ << "INSERT INTO people (id, guardian, consent, created) VALUES (:id, :g, 0, :c)", soci::use(p.id),
        soci::use(p.guardian, gi), soci::use(created);
    for (const auto& r : p.roles)
      *sql_ << "INSERT INTO person_roles (person, role) VALUES (:p, :r)", soci::use(p.id), soci::use(r);
    soci::indicator bi = p.birth.empty() ? soci::i_null : soci::i_ok;
    soci::indicator ei = p.email.empty() ? soci::i_null : soci::i_ok;
    *sql_ << "INSERT INTO person_data (id, name, birth, email) VALUES (:id, :n, :b, :e)", soci::use(p.id),
        soci::use(p.name), soci::use(p.birth, bi), soci::use(p.email, ei);
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::SetConsent(const std::string& person_id, bool given, const std::string& actor_id, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    std::string guardian, birth;
    soci::indicator gi = soci::i_null, bi = soci::i_null;
    int found = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(found), soci::use(person_id);
    if (found == 0) return Status::NotFound("no person '" + person_id + "'");
    *sql_ << "SELECT p.guardian, d.birth FROM people p LEFT JOIN person_data d ON d.id = p.id WHERE p.id = :id",
        soci::into(guardian, gi), soci::into(birth, bi), soci::use(person_id);
    ConsentSubject subject{person_id, bi == soci::i_ok ? ParseDate(birth) : std::nullopt,
                           gi == soci::i_ok ? guardian : std::string()};
    std::string capacity;
    if (Status s = MayChangeConsent(subject, LoadActor(actor_id), given, now.today, &capacity); !s.ok()) return s;
    int v = given ? 1 : 0;
    *sql_ << "UPDATE people SET consent = :c WHERE id = :id", soci::use(v), soci::use(person_id);
    if (Status s = AppendPersonHistory(person_id, actor_id, capacity, given ? "consent_signed" : "consent_revoked", "",
                                       now);
        !s.ok())
      return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::AppendPersonHistory(const std::string& person, const std::string& actor, const std::string& role,
                                      const std::string& event, const std::string& note, const Now& now) {
  long long seq = 0;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT MAX(seq) FROM person_history WHERE person = :p", soci::into(seq, ind), soci::use(person);
  long long next = (ind == soci::i_ok ? seq : 0) + 1;
  std::string at = FormatInstant(now.instant);
  soci::indicator ni = note.empty() ? soci::i_null : soci::i_ok;
  *sql_ << "INSERT INTO person_history (person, seq, at, actor, role, event, note) VALUES (:p, :s, :a, :ac, :r, :e, :n)",
      soci::use(person), soci::use(next), soci::use(at), soci::use(actor), soci::use(role), soci::use(event),
      soci::use(note, ni);
  return Status::Ok();
}

Status SociStore::PersonHistory(const std::string& person_id, std::vector<HistoryRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT seq, at, actor, role, event, note FROM person_history"
                                                   " WHERE person = :p ORDER BY seq",
                                  soci::use(person_id));
    for (const auto& r : rs) {
      HistoryRecord h;
      h.seq = static_cast<long>(RowInt(r, 0));
      h.at = r.get<std::string>(1);
      h.actor = r.get<std::string>(2);
      h.role = r.get<std::string>(3);
      h.event = r.get<std::string>(4);
      h.note = RowText(r, 5);
      out->push_back(std::move(h));
    }
    return Status::Ok();
  });
}

std::string SociStore::PersonName(const std::string& id) {
  auto& q = q_.Get(q_.select_person_name);
  q.person = id;
  q.name_ind = soci::i_null;
  if (!q.Run() || q.name_ind != soci::i_ok) return id;
  return q.name;
}

Actor SociStore::LoadActor(const std::string& id) {
  if (id == "system") return Actor::System();  // reserved: no person holds it
  Actor a{id, {}};
  auto& q = q_.Get(q_.select_roles);
  q.person = id;
  q.ForEach([&] { a.roles.push_back(q.role); });
  return a;
}

// ---- the world as the database sees it ----------------------------------------

bool SociStore::DbWorld::HasConsent(std::string_view id) const {
  auto& q = s_.q_.Get(s_.q_.select_consent);
  q.person = id;
  return q.Run() && q.consent != 0;
}

bool SociStore::DbWorld::PersonHasRole(std::string_view id, std::string_view role) const {
  auto& q = s_.q_.Get(s_.q_.select_has_role);
  q.person = id;
  q.role = role;
  q.Run();
  return q.n > 0;
}

std::vector<std::string> SociStore::DbWorld::PeopleWithRole(std::string_view role) const {
  std::vector<std::string> out;
  std::string r(role);
  soci::rowset<std::string> rs =
      (s_.sql_->prepare << "SELECT person FROM person_roles WHERE role = :r ORDER BY person", soci::use(r));
  for (const auto& p : rs) out.push_back(p);
  return out;
}

World::ChildCount SociStore::DbWorld::CountChildren(std::string_view parent, std::string_view workflow,
                                                    const std::vector<std::string>& states) const {
  ChildCount c;
  std::string p(parent), w(workflow);
  soci::rowset<std::string> rs = (s_.sql_->prepare << "SELECT state FROM instances WHERE parent = :p AND workflow = :w",
                                  soci::use(p), soci::use(w));
  for (const auto& st : rs) {
    ++c.total;
    if (std::find(states.begin(), states.end(), st) != states.end()) ++c.in_states;
  }
  return c;
}

std::int64_t SociStore::DbWorld::CountInstances(const Condition& c) const {
  std::vector<std::tuple<std::string, long long, std::string>> rows;
  {
    soci::rowset<soci::row> rs = (s_.sql_->prepare << "SELECT state, workflow_version, fields FROM instances"
                                                      " WHERE workflow = :w",
                                  soci::use(c.workflow));
    for (const auto& row : rs) rows.emplace_back(row.get<std::string>(0), RowInt(row, 1), row.get<std::string>(2));
  }
  std::int64_t n = 0;
  for (const auto& [state, version, fields] : rows) {
    if (!c.states.empty() && std::find(c.states.begin(), c.states.end(), state) == c.states.end()) continue;
    Status st;
    const Definition* def = s_.DefinitionFor(c.workflow, static_cast<int>(version), &st);
    if (def && MatchesWhere(*def, FieldsFromJson(*def, fields), c.where)) ++n;
  }
  return n;
}

}  // namespace mentorflow::storage
