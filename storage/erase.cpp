// Erasure of a person's personal data (152-FZ art. 21) and the act that
// records it. What stays is pseudonymous: the id, the year of birth, the
// history with the name replaced by a token, the SHA-256 of destroyed texts.
#include <sodium.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

namespace {

// A piece of a person's data (their name, e-mail or birth date) in the
// forms text may hold it in: as written and as a document escaped it;
// `quoted`, as JSON text holds it (only to find the rows: JSON columns are
// decoded before anything in them is replaced); `shared` when someone else
// not erased has it too (a namesake, a name that contains theirs, the same
// birthday).
struct Trace {
  std::vector<std::string> forms, quoted;
  bool shared = false;
};

Trace TraceOf(const std::vector<std::string>& written, bool shared) {
  Trace t;
  t.shared = shared;
  auto add = [](std::vector<std::string>& to, const std::string& f) {
    if (!f.empty() && std::find(to.begin(), to.end(), f) == to.end()) to.push_back(f);
  };
  for (const auto& w : written) {
    add(t.forms, w);
    std::string escaped;
    if (RenderMustache("escape", "{{v}}", json{{"v", w}}, Escape::kHtml, &escaped).ok()) add(t.forms, escaped);
  }
  for (const auto& f : t.forms) {
    const std::string quoted = json(f).dump();
    if (quoted.substr(1, quoted.size() - 2) != f) add(t.quoted, quoted.substr(1, quoted.size() - 2));
  }
  return t;
}

// The forms that count in a row: every trace's in a row that is theirs,
// only the unshared ones' elsewhere.
std::vector<std::string> FormsCounting(const std::vector<Trace>& traces, bool tied) {
  std::vector<std::string> out;
  for (const auto& t : traces)
    if (tied || !t.shared) out.insert(out.end(), t.forms.begin(), t.forms.end());
  return out;
}

// `text` with every whole form that counts there replaced by `token`.
std::string Redact(const std::string& text, const std::vector<Trace>& traces, bool tied, const std::string& token) {
  std::string out = text;
  for (const auto& f : FormsCounting(traces, tied)) out = ReplaceWhole(out, f, token);
  return out;
}

// The same inside every string of a JSON document (instance fields, history
// changes), so that no replacement can cut through an escape sequence.
std::string RedactJson(const std::string& text, const std::vector<Trace>& traces, bool tied, const std::string& token) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Redact(text, traces, tied, token);
  bool changed = false;
  std::function<void(json&)> walk = [&](json& v) {
    if (v.is_string()) {
      std::string after = Redact(v.get<std::string>(), traces, tied, token);
      if (after != v.get<std::string>()) v = std::move(after), changed = true;
    } else if (v.is_structured()) {
      for (auto& item : v) walk(item);
    }
  };
  walk(doc);
  return changed ? doc.dump() : text;
}

// What is the erased person's: the instances that name them in a person
// field and the orders that list those ("YEAR/NUMBER").
struct Ties {
  std::string person;
  std::set<std::string> instances, orders;
};

// A row of a table as the sweep reads it.
struct TextRow {
  std::vector<std::string> links, texts;
};

// A table whose text columns may hold personal data: its key (a column
// with '#' before it is an integer), the columns that tell whether a row is
// the person's, the text columns, more of the WHERE clause, and the tie.
struct TextTable {
  const char* name;
  std::vector<const char*> keys, links, texts;
  const char* where;
  bool (*tied)(const Ties&, const std::vector<std::string>& key, const TextRow&);
};

bool OfTheirInstance(const Ties& t, const std::vector<std::string>& key, const TextRow&) {
  return t.instances.count(key[0]) > 0;
}
bool OfTheirOrder(const Ties& t, const std::vector<std::string>& key, const TextRow&) {
  return t.orders.count(key[0] + "/" + key[1]) > 0;
}
bool OfThem(const Ties& t, const std::vector<std::string>& key, const TextRow&) { return key[0] == t.person; }
bool ToThemOrOfTheirInstance(const Ties& t, const std::vector<std::string>&, const TextRow& row) {
  return t.instances.count(row.links[0]) > 0 || row.links[1] == t.person;
}

// clang-format off
//                                table             key                             links                      texts                  more of WHERE              tie
const TextTable kDocumentTexts = {"documents",      {"instance", "name", "#issue"}, {},                        {"content"},           " AND erased_at IS NULL",  OfTheirInstance};
const TextTable kOrderTexts    = {"orders",         {"#year", "#number"},           {},                        {"content"},           " AND erased_at IS NULL",  OfTheirOrder};
const TextTable kConsentTexts  = {"consents",       {"person", "#issue"},           {},                        {"content"},           " AND erased_at IS NULL",  OfThem};
const TextTable kReminderTexts = {"reminders",      {"#id"},                        {"instance", "recipient"}, {"subject", "body"},   "",                        ToThemOrOfTheirInstance};
const TextTable kHistoryTexts  = {"history",        {"instance", "#seq"},           {},                        {"{changes", "note"},  "",                        OfTheirInstance};
const TextTable kPersonHistoryTexts = {"person_history", {"person", "#seq"},        {},                        {"note"},              "",                        OfThem};
const TextTable kInstanceTexts = {"instances",      {"id"},                         {},                        {"{fields"},           "",                        OfTheirInstance};
// clang-format on

// A key column marked '#' is an integer; a text column marked '{' holds JSON.
std::string Column(const char* c) { return c[0] == '#' || c[0] == '{' ? c + 1 : c; }

// A LIKE pattern that finds `text` anywhere, as written (ESCAPE with a backslash).
std::string Containing(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// The rows of `table` whose text columns hold any form of any trace (a
// superset: LIKE ignores ASCII case on SQLite and finds parts of words;
// the caller tells whole occurrences), by key.
std::map<std::vector<std::string>, TextRow> Candidates(soci::session& sql, const TextTable& table,
                                                       const std::vector<Trace>& traces) {
  std::string select;
  for (const auto* cols : {&table.keys, &table.links, &table.texts})
    for (const char* c : *cols) select += (select.empty() ? "" : ", ") + Column(c);
  std::map<std::vector<std::string>, TextRow> out;
  for (const char* column : table.texts)
    for (const auto& t : traces)
      for (const auto* forms : {&t.forms, &t.quoted})
        for (const auto& f : *forms) {
          const std::string like = Containing(f);
          soci::rowset<soci::row> rs = (sql.prepare << "SELECT " + select + " FROM " + table.name + " WHERE " +
                                                           Column(column) + " LIKE :l ESCAPE '\\'" + table.where,
                                        soci::use(like));
          for (const auto& r : rs) {
            std::vector<std::string> key;
            std::size_t i = 0;
            for (const char* k : table.keys) {
              key.push_back(k[0] == '#' ? std::to_string(RowInt(r, i)) : RowText(r, i));
              ++i;
            }
            TextRow row;
            for (std::size_t n = 0; n < table.links.size(); ++n) row.links.push_back(RowText(r, i++));
            for (std::size_t n = 0; n < table.texts.size(); ++n) row.texts.push_back(RowText(r, i++));
            out.emplace(std::move(key), std::move(row));
          }
        }
  return out;
}

// Sets `assignment` (placeholders bound from `values`, in order) on the row of `table` at `key`.
void UpdateRow(soci::session& sql, const TextTable& table, const std::vector<std::string>& key,
               const std::string& assignment, std::vector<std::string> values) {
  std::string where;
  for (std::size_t i = 0; i < table.keys.size(); ++i) {
    const std::string p = ":k" + std::to_string(i);
    where += std::string(i ? " AND " : "") + Column(table.keys[i]) + " = " +
             (table.keys[i][0] == '#' ? "CAST(" + p + " AS BIGINT)" : p);
  }
  values.insert(values.end(), key.begin(), key.end());
  soci::statement st(sql);
  for (auto& v : values) st.exchange(soci::use(v));
  st.alloc();
  st.prepare(std::string("UPDATE ") + table.name + " SET " + assignment + " WHERE " + where);
  st.define_and_bind();
  st.execute(true);
}

// Whether a text of `row` holds a whole form that counts there.
bool NamesThem(const TextRow& row, const std::vector<Trace>& traces, bool tied) {
  const auto forms = FormsCounting(traces, tied);
  for (const auto& text : row.texts)
    for (const auto& f : forms)
      if (ContainsWhole(text, f)) return true;
  return false;
}

// Whether someone not erased other than `person_id` has `value` whole in
// their `column` of person_data (name, email) or, for birth, the same date.
bool SharedByOthers(soci::session& sql, const std::string& person_id, const std::string& column,
                    const std::string& value) {
  const bool exact = column == "birth";
  const std::string match = exact ? value : Containing(value);
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT d." + column + " FROM person_data d JOIN people p ON p.id = d.id WHERE d.id <> :id" +
                          " AND p.erased_at IS NULL AND d." + column + (exact ? " = :v" : " LIKE :v ESCAPE '\\'"),
       soci::use(person_id), soci::use(match));
  for (const auto& other : rs)
    if (exact || ContainsWhole(other, value)) return true;
  return false;
}

// A history note with the value of each `NAME=VALUE` item whose NAME is in
// `names` replaced by `token`: an item runs to the next "; " or "," (how
// person add and person update join them), or to the end.
std::string RedactAssignments(const std::string& note, const std::set<std::string>& names, const std::string& token) {
  std::string out = note;
  for (const auto& name : names) {
    const std::string key = name + "=";
    for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + 1)) {
      if (at > 0 && std::string(" ,;").find(out[at - 1]) == std::string::npos) continue;
      const std::size_t from = at + key.size();
      std::size_t end = std::min(out.find("; ", from), out.find(',', from));
      if (end == std::string::npos) end = out.size();
      out.replace(from, end - from, token);
    }
  }
  return out;
}

}  // namespace

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
  if (auto b = content.find("<h1>"), e = content.find("</h1>");
      b != std::string::npos && e != std::string::npos && e > b)
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
      return Status(Code::kRefused,
                    "erase: " + person_id + " was erased on " + LocalDay(erased, Zone()) + " (act:" + person_id + ")",
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
    // What is to be destroyed: each piece of their data, in every form a
    // stored text may hold it in.
    std::string name, birth, email;
    soci::indicator ni = soci::i_null, bi = soci::i_null, mi = soci::i_null;
    *sql_ << "SELECT name, birth, email FROM person_data WHERE id = :id", soci::into(name, ni), soci::into(birth, bi),
        soci::into(email, mi), soci::use(person_id);
    unsigned char raw[6];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    const std::string token = std::string("erased-") + hex, at = FormatInstant(now.instant);
    std::vector<Trace> traces;
    // The id stays (history and statistics refer to it): a name that is the
    // id itself is not searched for, or every reference would be replaced.
    if (ni == soci::i_ok && name.size() >= 2 && name != person_id)
      traces.push_back(TraceOf({name}, SharedByOthers(*sql_, person_id, "name", name)));
    if (mi == soci::i_ok && !email.empty())
      traces.push_back(TraceOf({email}, SharedByOthers(*sql_, person_id, "email", email)));
    if (bi == soci::i_ok && !birth.empty())
      traces.push_back(TraceOf({birth, RussianDate(birth)}, SharedByOthers(*sql_, person_id, "birth", birth)));
    // What is theirs: the instances that name them (finished ones too) and
    // the orders that list those. A piece that someone else shares (a
    // namesake, the same birthday) is looked for only there; the others
    // wherever stored text holds them.
    Ties ties;
    ties.person = person_id;
    for (const auto& id : InstancesNaming(person_id, false)) {
      ties.instances.insert(id);
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT year, number FROM order_items WHERE instance = :i", soci::use(id));
      for (const auto& r : rs) ties.orders.insert(std::to_string(RowInt(r, 0)) + "/" + std::to_string(RowInt(r, 1)));
    }
    // Texts that name them are destroyed; the SHA-256 stays as proof of what was.
    json destroyed = json::array();
    auto destroy = [&](const TextTable& table, const std::string& empty, auto label) {
      for (const auto& [key, row] : Candidates(*sql_, table, traces))
        if (NamesThem(row, traces, table.tied(ties, key, row))) {
          destroyed.push_back(label(key));
          UpdateRow(*sql_, table, key, "content = " + empty + ", erased_at = :a", {at});
        }
    };
    destroy(kDocumentTexts, "NULL", [](const std::vector<std::string>& k) { return k[0] + ":" + k[1] + ":" + k[2]; });
    destroy(kOrderTexts, "''", [](const std::vector<std::string>& k) { return k[1] + "/" + k[0]; });
    destroy(kConsentTexts, "''", [](const std::vector<std::string>& k) { return "consent:" + k[0] + ":" + k[1]; });
    // Their own consents go whatever they say.
    {
      std::vector<std::string> own;
      soci::rowset<long long> rs =
          (sql_->prepare << "SELECT issue FROM consents WHERE person = :p AND erased_at IS NULL", soci::use(person_id));
      for (long long i : rs) own.push_back("consent:" + person_id + ":" + std::to_string(i));
      for (const auto& i : own) destroyed.push_back(i);
      *sql_ << "UPDATE consents SET content = '', erased_at = :a WHERE person = :p AND erased_at IS NULL",
          soci::use(at), soci::use(person_id);
    }
    // Elsewhere the pieces become the token.
    for (const TextTable* table : {&kReminderTexts, &kHistoryTexts, &kPersonHistoryTexts, &kInstanceTexts})
      for (const auto& [key, row] : Candidates(*sql_, *table, traces)) {
        const bool tied = table->tied(ties, key, row);
        for (size_t c = 0; c < row.texts.size(); ++c) {
          const char* column = table->texts[c];
          const std::string text = column[0] == '{' ? RedactJson(row.texts[c], traces, tied, token)
                                                    : Redact(row.texts[c], traces, tied, token);
          if (text != row.texts[c]) UpdateRow(*sql_, *table, key, Column(column) + " = :t", {text});
        }
      }
    soci::indicator yi = bi == soci::i_ok && birth.size() >= 4 ? soci::i_ok : soci::i_null;
    long long year = yi == soci::i_ok ? std::stoll(birth.substr(0, 4)) : 0;
    *sql_ << "UPDATE people SET erased_at = :a, birth_year = :y, consent = 0 WHERE id = :id", soci::use(at),
        soci::use(year, yi), soci::use(person_id);
    *sql_ << "UPDATE person_data SET name = :k, birth = NULL, email = NULL WHERE id = :id", soci::use(token),
        soci::use(person_id);
    // Attributes: an enum's value (a kind of school) stays for the anonymous
    // breakdowns; any other (a municipality's name, a free text) goes, from
    // the person's history notes too — the values they had before as well.
    {
      std::set<std::string> enums, redacted;
      for (const auto& a : DeclaredAttributes())
        (a.field.type == FieldType::kEnum ? enums : redacted).insert(a.field.name);
      std::vector<std::pair<std::string, std::string>> gone;
      {
        soci::rowset<soci::row> rs =
            (sql_->prepare << "SELECT name, value FROM person_attributes WHERE person = :p", soci::use(person_id));
        for (const auto& r : rs)
          if (!enums.count(r.get<std::string>(0))) gone.push_back({r.get<std::string>(0), r.get<std::string>(1)});
      }
      for (const auto& [name, value] : gone) {
        redacted.insert(name);
        *sql_ << "DELETE FROM person_attributes WHERE person = :p AND name = :n", soci::use(person_id), soci::use(name);
      }
      std::vector<std::pair<long long, std::string>> notes;
      {
        soci::rowset<soci::row> rs = (sql_->prepare << "SELECT seq, note FROM person_history WHERE person = :p"
                                                       " AND note IS NOT NULL",
                                      soci::use(person_id));
        for (const auto& r : rs) notes.push_back({RowInt(r, 0), RowText(r, 1)});
      }
      for (auto& [seq, note] : notes) {
        std::string text = note;
        for (const auto& [name, value] : gone) text = ReplaceWhole(text, name + "=" + value, name + "=" + token);
        text = RedactAssignments(text, redacted, token);
        if (text != note)
          *sql_ << "UPDATE person_history SET note = :n WHERE person = :p AND seq = :s", soci::use(text),
              soci::use(person_id), soci::use(seq);
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
        history.push_back({{"at", r.get<std::string>(0)},
                           {"actor", r.get<std::string>(1)},
                           {"role", r.get<std::string>(2)},
                           {"event", r.get<std::string>(3)},
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
                {"revoked_on", revoked ? RussianDate(LocalDay(revoked_at, Zone())) : std::string()},
                {"revoked_doc", revoked_doc},
                {"finished", running.empty()},
                {"actor", {{"id", actor_id}, {"name", PersonName(actor_id)}}},
                {"history", history}};
    if (di == soci::i_ok) ctx["institution"]["director"] = PersonName(director);
    std::string content;
    if (Status s = RenderDocumentTemplate(options_.templates_dir, "destruction_act", ctx, &content); !s.ok()) return s;
    const std::string grounds = revoked ? "consent revoked (" + revoked_doc + ")" : "no running instance names them";
    const std::string sha = Sha256Hex(content);
    *sql_
        << "INSERT INTO destruction_acts (person, at, actor, grounds, content, sha256) VALUES (:p, :a, :b, :g, :c, :h)",
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
