// Erasure of a person's personal data (152-FZ art. 21) and the act that
// records it. What stays is pseudonymous: the id, the year of birth, the
// history with the name replaced by a token, the SHA-256 of destroyed texts.
#include <sodium.h>

#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

Status SociStore::ReadAct(const std::string& person_id, DocumentRecord* out) {
  std::string at, actor, content, sha256;
  soci::indicator found = soci::i_null;
  *sql_ << "SELECT at, actor, content, sha256 FROM destruction_acts WHERE person = :p", soci::into(at, found),
      soci::into(actor), soci::into(content), soci::into(sha256), soci::use(person_id);
  if (found != soci::i_ok) return Status::NotFound("no destruction act for '" + person_id + "' (not erased)");
  DocumentRecord d;
  d.subject = person_id;
  d.name = "act";
  d.issue = 1;
  d.template_name = "destruction_act";
  d.issued_at = at;
  d.issued_by = actor;
  d.status = "signed";
  d.content = content;
  d.sha256 = sha256;
  d.intact = Sha256Hex(content) == sha256;
  d.title = d.template_name;
  if (auto b = content.find("<h1>"), e = content.find("</h1>"); b != std::string::npos && e != std::string::npos && e > b)
    d.title = content.substr(b + 4, e - b - 4);
  DocumentRecord::Place p;
  p.as = "actor";
  p.person = p.signed_by = actor;
  p.name = p.signed_by_name = p.title = PersonName(actor);
  p.capacity = "erased by";
  p.signed_at = at;
  d.places.push_back(std::move(p));
  *out = std::move(d);
  return Status::Ok();
}

Status SociStore::ErasePerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                              DocumentRecord* act) {
  Status result = Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    Tx tx(*this);
    int n = 0, consent = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    std::string erased;
    soci::indicator ei = soci::i_null;
    *sql_ << "SELECT consent, erased_at FROM people WHERE id = :id", soci::into(consent), soci::into(erased, ei),
        soci::use(person_id);
    if (ei == soci::i_ok)
      return Status(Code::kRefused, "erase: " + person_id + " was erased on " + erased.substr(0, 10) + " (act:" +
                                        person_id + ")",
                    "erase");
    const Actor actor = LoadActor(actor_id);
    if (!actor.Holds("curator") && !actor.Holds("director"))
      return Status(Code::kRefused,
                    "role: " + actor_id + " may not erase personal data (a curator or the director does)", "role");
    // The grounds: a revoked consent, or nothing running names them.
    std::string revoked_at, revoked_doc;
    {
      long long issue = 0;
      soci::indicator ri = soci::i_null;
      *sql_ << "SELECT MAX(issue) FROM consents WHERE person = :p AND status = 'revoked'", soci::into(issue, ri),
          soci::use(person_id);
      if (ri == soci::i_ok) {
        *sql_ << "SELECT revoked_at FROM consents WHERE person = :p AND issue = :i", soci::into(revoked_at),
            soci::use(person_id), soci::use(issue);
        revoked_doc = "consent:" + person_id + ":" + std::to_string(issue);
      }
    }
    const std::vector<std::string> running = RunningInstancesNaming(person_id);
    const bool revoked = consent == 0 && !revoked_doc.empty();
    if (!revoked && !running.empty()) {
      std::string ids;
      for (const auto& i : running) ids += (ids.empty() ? "" : ", ") + i;
      return Status(Code::kRefused,
                    "erase: " + person_id + " is named by running instances (" + ids + ")" +
                        (consent != 0 ? " and their consent is valid" : "") +
                        ": revoke the consent or finish those instances first",
                    "erase");
    }
    // The duties that waited for this erasure are done.
    if (Status s = Cascade(RunningInstancesNaming(person_id), "erased", now, nullptr); !s.ok()) return s;
    // What is to be destroyed.
    std::string name, birth, email;
    soci::indicator ni = soci::i_null, bi = soci::i_null, mi = soci::i_null;
    *sql_ << "SELECT name, birth, email FROM person_data WHERE id = :id", soci::into(name, ni), soci::into(birth, bi),
        soci::into(email, mi), soci::use(person_id);
    unsigned char raw[6];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    const std::string token = std::string("erased-") + hex, at = FormatInstant(now.instant);
    std::vector<std::string> texts;  // the forms in which the data may appear in stored text
    // The id stays (history and statistics refer to it): a name that is the
    // id itself is not searched for, or every reference would be replaced.
    if (ni == soci::i_ok && name.size() >= 2 && name != person_id) texts.push_back(name);
    if (mi == soci::i_ok && !email.empty()) texts.push_back(email);
    if (bi == soci::i_ok && !birth.empty()) {
      texts.push_back(birth);
      texts.push_back(RussianDate(birth));
    }
    // Documents hold them as the renderer escaped them.
    for (size_t k = 0, n = texts.size(); k < n; ++k) {
      std::string escaped;
      if (RenderMustache("escape", "{{v}}", json{{"v", texts[k]}}, Escape::kHtml, &escaped).ok() && escaped != texts[k])
        texts.push_back(escaped);
    }
    // Texts that name them are destroyed; the SHA-256 stays as proof of what was.
    json destroyed = json::array();
    auto destroy = [&](const std::string& table, const std::string& id_sql, const std::string& empty) {
      for (const auto& t : texts) {
        const std::string like = "%" + t + "%";
        std::vector<std::string> ids;
        soci::rowset<std::string> rs = (sql_->prepare << "SELECT " + id_sql + " FROM " + table +
                                                             " WHERE content LIKE :l AND erased_at IS NULL",
                                        soci::use(like));
        for (const auto& i : rs) ids.push_back(i);
        for (const auto& i : ids) destroyed.push_back(i);
        *sql_ << "UPDATE " + table + " SET content = " + empty + ", erased_at = :a WHERE content LIKE :l" +
                     " AND erased_at IS NULL",
            soci::use(at), soci::use(like);
      }
    };
    destroy("documents", sqlite_ ? "instance || ':' || name || ':' || issue" : "instance || ':' || name || ':' || issue::text",
            "NULL");
    destroy("orders", sqlite_ ? "number || '/' || year" : "number::text || '/' || year::text", "''");
    destroy("consents", sqlite_ ? "'consent:' || person || ':' || issue" : "'consent:' || person || ':' || issue::text",
            "''");
    // Their own consents go whatever they say.
    {
      std::vector<std::string> own;
      soci::rowset<long long> rs = (sql_->prepare << "SELECT issue FROM consents WHERE person = :p AND erased_at IS NULL",
                                    soci::use(person_id));
      for (long long i : rs) own.push_back("consent:" + person_id + ":" + std::to_string(i));
      for (const auto& i : own) destroyed.push_back(i);
      *sql_ << "UPDATE consents SET content = '', erased_at = :a WHERE person = :p AND erased_at IS NULL", soci::use(at),
          soci::use(person_id);
    }
    // Elsewhere the name becomes the token.
    for (const auto& t : texts) {
      const std::string like = "%" + t + "%";
      for (const char* col : {"subject", "body"})
        *sql_ << std::string("UPDATE reminders SET ") + col + " = REPLACE(" + col + ", :t, :k) WHERE " + col +
                     " LIKE :l",
            soci::use(t), soci::use(token), soci::use(like);
      for (const char* col : {"changes", "note"})
        *sql_ << std::string("UPDATE history SET ") + col + " = REPLACE(" + col + ", :t, :k) WHERE " + col + " LIKE :l",
            soci::use(t), soci::use(token), soci::use(like);
      *sql_ << "UPDATE person_history SET note = REPLACE(note, :t, :k) WHERE note LIKE :l", soci::use(t),
          soci::use(token), soci::use(like);
      *sql_ << "UPDATE instances SET fields = REPLACE(fields, :t, :k) WHERE fields LIKE :l", soci::use(t),
          soci::use(token), soci::use(like);
    }
    soci::indicator yi = bi == soci::i_ok && birth.size() >= 4 ? soci::i_ok : soci::i_null;
    long long year = yi == soci::i_ok ? std::stoll(birth.substr(0, 4)) : 0;
    *sql_ << "UPDATE people SET erased_at = :a, birth_year = :y, consent = 0 WHERE id = :id", soci::use(at),
        soci::use(year, yi), soci::use(person_id);
    *sql_ << "UPDATE person_data SET name = :k, birth = NULL, email = NULL WHERE id = :id", soci::use(token),
        soci::use(person_id);
    // Attributes: an enum's value (a kind of school) stays for the anonymous
    // breakdowns; any other (a municipality's name, a free text) goes, from
    // the person's history notes too.
    {
      std::vector<std::string> enums;
      for (const auto& a : DeclaredAttributes())
        if (a.field.type == FieldType::kEnum) enums.push_back(a.field.name);
      std::vector<std::pair<std::string, std::string>> gone;
      {
        soci::rowset<soci::row> rs = (sql_->prepare << "SELECT name, value FROM person_attributes WHERE person = :p",
                                      soci::use(person_id));
        for (const auto& r : rs)
          if (std::find(enums.begin(), enums.end(), r.get<std::string>(0)) == enums.end())
            gone.push_back({r.get<std::string>(0), r.get<std::string>(1)});
      }
      for (const auto& [name, value] : gone) {
        *sql_ << "DELETE FROM person_attributes WHERE person = :p AND name = :n", soci::use(person_id), soci::use(name);
        const std::string text = name + "=" + value, erased = name + "=" + token, like = "%" + text + "%";
        *sql_ << "UPDATE person_history SET note = REPLACE(note, :t, :k) WHERE person = :p AND note LIKE :l",
            soci::use(text), soci::use(erased), soci::use(person_id), soci::use(like);
      }
    }
    // The act: whose data (the id and the token), which categories, when, by
    // whom, on what grounds, and the history about them — naming no one.
    json history = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT at, actor, role, event, note FROM person_history"
                                                     " WHERE person = :p ORDER BY seq",
                                    soci::use(person_id));
      for (const auto& r : rs)
        history.push_back({{"at", r.get<std::string>(0)}, {"actor", r.get<std::string>(1)},
                           {"role", r.get<std::string>(2)}, {"event", r.get<std::string>(3)},
                           {"note", RowText(r, 4)}});
    }
    std::string director;
    soci::indicator di = soci::i_null;
    *sql_ << "SELECT MIN(person) FROM person_roles WHERE role = 'director'", soci::into(director, di);
    json ctx = {{"institution", {{"name", Setting("institution")}}},
                {"today", RussianDate(FormatDate(now.today))},
                {"person", {{"id", person_id}, {"token", token}}},
                {"had_name", ni == soci::i_ok},
                {"had_birth", bi == soci::i_ok},
                {"had_email", mi == soci::i_ok},
                {"documents", destroyed},
                {"revoked", revoked},
                {"revoked_on", revoked ? RussianDate(revoked_at.substr(0, 10)) : std::string()},
                {"revoked_doc", revoked_doc},
                {"finished", running.empty()},
                {"actor", {{"id", actor_id}, {"name", PersonName(actor_id)}}},
                {"history", history}};
    if (di == soci::i_ok) ctx["institution"]["director"] = PersonName(director);
    std::string content;
    if (Status s = RenderDocumentTemplate(options_.templates_dir, "destruction_act", ctx, &content); !s.ok()) return s;
    const std::string grounds = revoked ? "consent revoked (" + revoked_doc + ")" : "no running instance names them";
    const std::string sha = Sha256Hex(content);
    *sql_ << "INSERT INTO destruction_acts (person, at, actor, grounds, content, sha256) VALUES (:p, :a, :b, :g, :c, :h)",
        soci::use(person_id), soci::use(at), soci::use(actor_id), soci::use(grounds), soci::use(content),
        soci::use(sha);
    if (Status s = AppendPersonHistory(person_id, actor_id, actor.Holds("director") ? "director" : "curator", "erased",
                                       "act:" + person_id + "; " + grounds, now);
        !s.ok())
      return s;
    if (Status s = ReadAct(person_id, act); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
  if (!result.ok() || !sqlite_) return result;
  // Outside the transaction: no old page may keep the data — the WAL is
  // written back and emptied, the file rebuilt without free pages.
  return Guard([&]() -> Status {
    *sql_ << "PRAGMA wal_checkpoint(TRUNCATE)";
    *sql_ << "VACUUM";
    *sql_ << "PRAGMA wal_checkpoint(TRUNCATE)";
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
