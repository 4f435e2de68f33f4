// Erasure of a person's personal data (152-FZ art. 21) and the act that
// records it. What stays is pseudonymous: the id, the year of birth, the
// history with the name replaced by a token, the SHA-256 of destroyed texts.
#include <sodium.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

namespace {

// A piece of a person's data (their name, e-mail or birth date) in the
// forms text may hold it in: as written (and, for a name, the forms
// NameForms lists) and as a document escaped it, longest first. JSON
// columns are decoded before anything in them is replaced.
using Forms = std::vector<std::string>;

Forms FormsOf(const std::vector<std::string>& written) {
  Forms out;
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  for (const auto& w : written) {
    add(w);
    std::string escaped;
    if (RenderMustache("escape", "{{v}}", json{{"v", w}}, Escape::kHtml, &escaped).ok()) add(escaped);
  }
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

// `text` with every whole form replaced by `token`.
std::string Redact(const std::string& text, const Forms& forms, const std::string& token) {
  std::string out = text;
  for (const auto& f : forms) out = ReplaceWhole(out, f, token);
  return out;
}

// The same inside every string of a JSON document (instance fields, history
// changes), so that no replacement can cut through an escape sequence.
std::string RedactJson(const std::string& text, const Forms& forms, const std::string& token) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Redact(text, forms, token);
  bool changed = false;
  std::function<void(json&)> walk = [&](json& v) {
    if (v.is_string()) {
      std::string after = Redact(v.get<std::string>(), forms, token);
      if (after != v.get<std::string>()) v = std::move(after), changed = true;
    } else if (v.is_structured()) {
      for (auto& item : v) walk(item);
    }
  };
  walk(doc);
  return changed ? doc.dump() : text;
}

// A table whose rows may carry the person's data as free text: its key (a
// column with '#' before it is an integer) and its text columns (one with
// '{' before it holds JSON).
struct TextTable {
  const char* name;
  std::vector<const char*> keys, texts;
};

// clang-format off
//                                      table             key                             texts
const TextTable kDocumentTexts      = {"documents",      {"instance", "name", "#issue"}, {"content"}};
const TextTable kOrderTexts         = {"orders",         {"#year", "#number"},           {"content"}};
const TextTable kConsentTexts       = {"consents",       {"person", "#issue"},           {"content"}};
const TextTable kReminderTexts      = {"reminders",      {"#id"},                        {"subject", "body"}};
const TextTable kHistoryTexts       = {"history",        {"instance", "#seq"},           {"{changes", "note"}};
const TextTable kPersonHistoryTexts = {"person_history", {"person", "#seq"},             {"note"}};
const TextTable kInstanceTexts      = {"instances",      {"id"},                         {"{fields"}};
// clang-format on

// A key column marked '#' is an integer; a text column marked '{' holds JSON.
std::string Column(const char* c) { return c[0] == '#' || c[0] == '{' ? c + 1 : c; }

// The key columns, then the text columns, of `table` for a SELECT.
std::string SelectList(const TextTable& table) {
  std::string select;
  for (const auto* cols : {&table.keys, &table.texts})
    for (const char* c : *cols) select += (select.empty() ? "" : ", ") + Column(c);
  return select;
}

// A row selected with SelectList(table): its key and its texts.
std::pair<std::vector<std::string>, std::vector<std::string>> ReadTextRow(const TextTable& table, const soci::row& r) {
  std::vector<std::string> key, texts;
  std::size_t i = 0;
  for (const char* k : table.keys) key.push_back(k[0] == '#' ? std::to_string(RowInt(r, i++)) : RowText(r, i++));
  for (std::size_t n = 0; n < table.texts.size(); ++n) texts.push_back(RowText(r, i++));
  return {std::move(key), std::move(texts)};
}

// The rows of `table` where `column` = `value` (texts not destroyed), by key.
std::map<std::vector<std::string>, std::vector<std::string>> RowsWhere(soci::session& sql, const std::string& inst,
                                                                      const TextTable& table,
                                                                      const std::string& column,
                                                                      const std::string& value) {
  const std::string select = SelectList(table);
  const bool has_erased = &table == &kDocumentTexts || &table == &kOrderTexts || &table == &kConsentTexts;
  std::map<std::vector<std::string>, std::vector<std::string>> out;
  soci::rowset<soci::row> rs = (sql.prepare << "SELECT " + select + " FROM " + table.name + " WHERE institution = " +
                                                   inst + " AND " + column + " = :v" + (has_erased ? " AND erased_at IS NULL" : ""),
                                soci::use(value));
  for (const auto& r : rs) out.insert(ReadTextRow(table, r));
  return out;
}

// "institution = INST AND k0 = :k0 AND ..." for `table`'s key.
std::string KeyWhere(const std::string& inst, const TextTable& table) {
  std::string where = "institution = " + inst;
  for (std::size_t i = 0; i < table.keys.size(); ++i) {
    const std::string p = ":k" + std::to_string(i);
    where += " AND " + Column(table.keys[i]) + " = " +
             (table.keys[i][0] == '#' ? "CAST(" + p + " AS BIGINT)" : p);
  }
  return where;
}

// The content of a document, order or consent at `key`; none when there is
// no such row or its text was destroyed.
std::optional<std::string> LiveContent(soci::session& sql, const std::string& inst, const TextTable& table,
                                       std::vector<std::string> key) {
  std::string content;
  soci::indicator ci = soci::i_null;
  int live = 0;
  soci::statement st(sql);
  st.exchange(soci::into(content, ci));
  st.exchange(soci::into(live));
  for (auto& k : key) st.exchange(soci::use(k));
  st.alloc();
  st.prepare(std::string("SELECT content, CASE WHEN erased_at IS NULL THEN 1 ELSE 0 END FROM ") + table.name +
             " WHERE " + KeyWhere(inst, table));
  st.define_and_bind();
  if (!st.execute(true) || !live) return std::nullopt;
  return ci == soci::i_ok ? content : std::string();
}

// A LIKE pattern that finds `text` anywhere, as written (ESCAPE with a backslash).
std::string Containing(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// The rows of `table` whose text columns hold any of `forms` somewhere (a
// superset: LIKE finds parts of words; the caller replaces whole ones), by key.
std::map<std::vector<std::string>, std::vector<std::string>> RowsHolding(soci::session& sql, const std::string& inst,
                                                                        const TextTable& table,
                                                                        const Forms& forms) {
  const std::string select = SelectList(table);
  std::map<std::vector<std::string>, std::vector<std::string>> out;
  for (const char* column : table.texts)
    for (const auto& f : forms) {
      // A JSON column holds the form as JSON escapes it.
      const std::string quoted = json(f).dump(), written = column[0] == '{' ? quoted.substr(1, quoted.size() - 2) : f;
      const std::string like = Containing(written);
      soci::rowset<soci::row> rs = (sql.prepare << "SELECT " + select + " FROM " + table.name + " WHERE institution = " +
                                                       inst + " AND " + Column(column) + " LIKE :l ESCAPE '\\'",
                                    soci::use(like));
      for (const auto& r : rs) out.insert(ReadTextRow(table, r));
    }
  return out;
}

// Sets `assignment` (placeholders bound from `values`, in order) on the row of `table` at `key`.
void UpdateRow(soci::session& sql, const std::string& inst, const TextTable& table, const std::vector<std::string>& key,
               const std::string& assignment, std::vector<std::string> values) {
  const std::string where = KeyWhere(inst, table);
  values.insert(values.end(), key.begin(), key.end());
  soci::statement st(sql);
  for (auto& v : values) st.exchange(soci::use(v));
  st.alloc();
  st.prepare(std::string("UPDATE ") + table.name + " SET " + assignment + " WHERE " + where);
  st.define_and_bind();
  st.execute(true);
}

// A stored text by the id its DocumentRecord has: its table and key.
// "N/YYYY" an order, "consent:PERSON:ISSUE" a consent, else
// "INSTANCE:NAME:ISSUE" (a name has no ':'; ids may).
bool TextOf(const std::string& id, const TextTable** table, std::vector<std::string>* key) {
  const auto last = id.rfind(':');
  if (id.find(':') == std::string::npos) {
    const auto slash = id.find('/');
    if (slash == std::string::npos) return false;
    *table = &kOrderTexts;
    *key = {id.substr(slash + 1), id.substr(0, slash)};
    return true;
  }
  if (id.rfind("consent:", 0) == 0) {
    *table = &kConsentTexts;
    *key = {id.substr(8, last - 8), id.substr(last + 1)};
    return last > 8;
  }
  const auto middle = id.rfind(':', last - 1);
  if (middle == std::string::npos || last == 0) return false;
  *table = &kDocumentTexts;
  *key = {id.substr(0, middle), id.substr(middle + 1, last - middle - 1), id.substr(last + 1)};
  return true;
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
  *sql_ << "SELECT at, actor, content, sha256 FROM destruction_acts WHERE institution = " + I() + " AND person = :p", soci::into(at, found),
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
  ForgetLookups();
  Status result = Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    Tx tx(*this);
    int n = 0, consent = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    std::string erased;
    soci::indicator ei = soci::i_null;
    *sql_ << "SELECT consent, erased_at FROM people WHERE institution = " + I() + " AND id = :id", soci::into(consent), soci::into(erased, ei),
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
      *sql_ << "SELECT MAX(issue) FROM consents WHERE institution = " + I() + " AND person = :p AND status = 'revoked'", soci::into(issue, ri),
          soci::use(person_id);
      if (ri == soci::i_ok) {
        *sql_ << "SELECT revoked_at FROM consents WHERE institution = " + I() + " AND person = :p AND issue = :i", soci::into(revoked_at),
            soci::use(person_id), soci::use(issue);
        revoked_doc = "consent:" + person_id + ":" + std::to_string(issue);
      }
    }
    // What still runs for them, but the operator's duties that wait for
    // this very erasure (a destruction or an erasure demand).
    std::vector<std::string> running;
    for (const auto& id : RunningInstancesNaming(person_id)) {
      InstanceRecord rec;
      if (ShowUnlocked(id, &rec).ok() && rec.workflow == "personal_data") {
        const json fields = json::parse(rec.fields_json, nullptr, false);
        if (fields.is_object() && fields.value("kind", json()).is_string() &&
            (fields["kind"] == "destruction" || fields["kind"] == "erasure"))
          continue;
      }
      running.push_back(id);
    }
    // Revoked: no consent of any purpose is left in force.
    const bool revoked = consent == 0 && PurposesInForce(person_id).empty() && !revoked_doc.empty();
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
    *sql_ << "SELECT name, birth, email FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(name, ni), soci::into(birth, bi),
        soci::into(email, mi), soci::use(person_id);
    std::vector<std::string> particulars;
    {
      const Particulars p = LoadParticulars(person_id);
      std::string authority;
      soci::indicator ai = soci::i_null;
      *sql_ << "SELECT authority FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(authority, ai), soci::use(person_id);
      for (const std::string& v : {p.address, p.document.number, ai == soci::i_ok ? authority : std::string()})
        if (!v.empty()) particulars.push_back(v);
    }
    unsigned char raw[6];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    const std::string token = std::string("erased-") + hex, at = FormatInstant(now.instant);
    // The id stays (history and statistics refer to it): a name that is the
    // id itself is not searched for, or every reference would be replaced.
    // A date of birth is looked for in plain text only: in a JSON column it
    // could be the value of a date field, which must stay a date.
    Forms forms, plain;
    {
      std::vector<std::string> pieces, dates;
      if (ni == soci::i_ok && name.size() >= 2 && name != person_id)
        for (const auto& f : NameForms(name)) pieces.push_back(f);
      if (mi == soci::i_ok && !email.empty()) pieces.push_back(email);
      if (bi == soci::i_ok && !birth.empty()) dates = {birth, RussianDate(birth)};
      // What their consents stated: the address, the document's number, the
      // document of their representative's authority (its issuer and date
      // are no one's in particular).
      for (const std::string& piece : particulars)
        if (piece.size() >= 4) pieces.push_back(piece);
      forms = FormsOf(pieces);
      pieces.insert(pieces.end(), dates.begin(), dates.end());
      plain = FormsOf(pieces);
    }
    auto redact_row = [&](const TextTable& table, const std::vector<std::string>& key,
                          const std::vector<std::string>& texts, const std::string& extra) {
      bool changed = false;
      for (size_t c = 0; c < texts.size(); ++c) {
        const char* column = table.texts[c];
        const std::string text =
            column[0] == '{' ? RedactJson(texts[c], forms, token) : Redact(texts[c], plain, token);
        if (text == texts[c]) continue;
        UpdateRow(*sql_, I(), table, key, Column(column) + " = :t" + extra, extra.empty() ? std::vector<std::string>{text}
                                                                                     : std::vector<std::string>{text, at});
        changed = true;
      }
      return changed;
    };
    // The stored texts holding their data, as recorded when each was issued
    // (document_people): one about them is destroyed, its SHA-256 kept as
    // proof of what was; one that only names them (a ward's consent they
    // signed as guardian, an order they issued) keeps its text with their
    // data replaced by the token. Nothing is decided from what a text
    // happens to contain: the institution's name or a date of issue equal
    // to a piece of theirs touches nothing.
    json destroyed = json::array();
    json redacted = json::array();
    auto destroy = [&](const TextTable& table, const std::vector<std::string>& key, const std::string& id) {
      destroyed.push_back(id);
      UpdateRow(*sql_, I(), table, key, std::string("content = ") + (&table == &kDocumentTexts ? "NULL" : "''") +
                                       ", erased_at = :a",
                {at});
    };
    std::set<std::string> recorded;
    {
      std::vector<std::pair<std::string, std::string>> texts;
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT document, capacity FROM document_people WHERE institution = " + I() + " AND person = :p"
                                                     " ORDER BY document",
                                    soci::use(person_id));
      for (const auto& r : rs) texts.emplace_back(r.get<std::string>(0), r.get<std::string>(1));
      for (const auto& [id, capacity] : texts) {
        recorded.insert(id);
        const TextTable* table = nullptr;
        std::vector<std::string> key;
        if (!TextOf(id, &table, &key)) throw StoredStateError("document_people names '" + id + "', not a document");
        const auto content = LiveContent(*sql_, I(), *table, key);
        if (!content) continue;  // destroyed before
        if (capacity == "subject") destroy(*table, key, id);
        else if (redact_row(*table, key, {*content}, ", redacted_at = :a")) redacted.push_back(id);
      }
    }
    // What is theirs: the instances that name them (finished ones too) and
    // the orders that list those.
    std::set<std::string> instances, orders;
    for (const auto& id : InstancesNaming(person_id, false)) {
      instances.insert(id);
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT year, number FROM order_items WHERE institution = " + I() + " AND instance = :i", soci::use(id));
      for (const auto& r : rs) orders.insert(std::to_string(RowInt(r, 1)) + "/" + std::to_string(RowInt(r, 0)));
    }
    // Texts issued before their people were recorded (schema 11 and
    // earlier): those of their instances, the orders listing them and their
    // own consents are about them.
    auto unrecorded = [&](const std::string& id) {
      if (recorded.count(id)) return false;
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM document_people WHERE institution = " + I() + " AND document = :d", soci::into(n), soci::use(id);
      return n == 0;
    };
    for (const auto& instance : instances)
      for (const auto& [key, texts] : RowsWhere(*sql_, I(), kDocumentTexts, "instance", instance))
        if (const std::string id = key[0] + ":" + key[1] + ":" + key[2]; unrecorded(id)) destroy(kDocumentTexts, key, id);
    for (const auto& number : orders) {
      const TextTable* table = nullptr;
      std::vector<std::string> key;
      if (!TextOf(number, &table, &key) || !unrecorded(number)) continue;
      int open = 0;
      *sql_ << "SELECT COUNT(*) FROM orders WHERE institution = " + I() + " AND year = CAST(:y AS BIGINT) AND number = CAST(:n AS BIGINT)"
               " AND erased_at IS NULL",
          soci::into(open), soci::use(key[0]), soci::use(key[1]);
      if (open) destroy(kOrderTexts, key, number);
    }
    // Their own consents go whatever was recorded.
    for (const auto& [key, texts] : RowsWhere(*sql_, I(), kConsentTexts, "person", person_id))
      destroy(kConsentTexts, key, "consent:" + key[0] + ":" + key[1]);
    // Free text the person's own rows carry — their instances' fields and
    // history, reminders to them or about their instances, their person
    // history — has each piece of their data replaced by the token. Rows of
    // other people are not searched.
    for (const auto& instance : instances) {
      for (const TextTable* table : {&kHistoryTexts, &kInstanceTexts})
        for (const auto& [key, texts] : RowsWhere(*sql_, I(), *table, Column(table->keys[0]), instance))
          redact_row(*table, key, texts, "");
      for (const auto& [key, texts] : RowsWhere(*sql_, I(), kReminderTexts, "instance", instance))
        redact_row(kReminderTexts, key, texts, "");
    }
    for (const auto& [key, texts] : RowsWhere(*sql_, I(), kReminderTexts, "recipient", person_id))
      redact_row(kReminderTexts, key, texts, "");
    for (const auto& [key, texts] : RowsWhere(*sql_, I(), kPersonHistoryTexts, "person", person_id))
      redact_row(kPersonHistoryTexts, key, texts, "");
    // Elsewhere (a note in someone else's pair that names them) only what
    // cannot be anyone else's: their e-mail address, and their full name as
    // written when it has two words or more, no one else not erased has it
    // in theirs and the institution's name does not hold it. A one-word name
    // ("Центр") or a namesake's is left alone there.
    {
      Forms distinctive;
      if (mi == soci::i_ok && !email.empty()) distinctive.push_back(email);
      if (ni == soci::i_ok && name != person_id && name.find(' ') != std::string::npos &&
          !ContainsWhole(Setting("institution"), name)) {
        bool shared = false;
        const std::string like = Containing(name);
        soci::rowset<std::string> rs =
            (sql_->prepare << "SELECT d.name FROM person_data d JOIN people p ON p.institution = d.institution AND p.id = d.id"
                              " WHERE d.institution = " + I() + " AND d.id <> :id"
                              " AND p.erased_at IS NULL AND d.name LIKE :v ESCAPE '\\'",
             soci::use(person_id), soci::use(like));
        for (const auto& other : rs) shared = shared || ContainsWhole(other, name);
        if (!shared) distinctive.push_back(name);
      }
      distinctive = FormsOf(distinctive);
      if (!distinctive.empty()) {
        forms = plain = distinctive;
        for (const TextTable* table : {&kReminderTexts, &kHistoryTexts, &kPersonHistoryTexts, &kInstanceTexts})
          for (const auto& [key, texts] : RowsHolding(*sql_, I(), *table, distinctive)) redact_row(*table, key, texts, "");
      }
    }
    soci::indicator yi = bi == soci::i_ok && birth.size() >= 4 ? soci::i_ok : soci::i_null;
    long long year = yi == soci::i_ok ? std::stoll(birth.substr(0, 4)) : 0;
    *sql_ << "UPDATE people SET erased_at = :a, birth_year = :y, consent = 0 WHERE institution = " + I() + " AND id = :id", soci::use(at),
        soci::use(year, yi), soci::use(person_id);
    *sql_ << "UPDATE person_data SET name = :k, birth = NULL, email = NULL, address = NULL, document_kind = NULL,"
             " document_number = NULL, document_issued = NULL, document_issuer = NULL, authority = NULL"
             " WHERE institution = " + I() + " AND id = :id",
        soci::use(token), soci::use(person_id);
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
            (sql_->prepare << "SELECT name, value FROM person_attributes WHERE institution = " + I() + " AND person = :p", soci::use(person_id));
        for (const auto& r : rs)
          if (!enums.count(r.get<std::string>(0))) gone.push_back({r.get<std::string>(0), r.get<std::string>(1)});
      }
      for (const auto& [name, value] : gone) {
        redacted.insert(name);
        *sql_ << "DELETE FROM person_attributes WHERE institution = " + I() + " AND person = :p AND name = :n", soci::use(person_id), soci::use(name);
      }
      std::vector<std::pair<long long, std::string>> notes;
      {
        soci::rowset<soci::row> rs = (sql_->prepare << "SELECT seq, note FROM person_history WHERE institution = " + I() + " AND person = :p"
                                                       " AND note IS NOT NULL",
                                      soci::use(person_id));
        for (const auto& r : rs) notes.push_back({RowInt(r, 0), RowText(r, 1)});
      }
      for (auto& [seq, note] : notes) {
        std::string text = note;
        for (const auto& [name, value] : gone) text = ReplaceWhole(text, name + "=" + value, name + "=" + token);
        text = RedactAssignments(text, redacted, token);
        if (text != note)
          *sql_ << "UPDATE person_history SET note = :n WHERE institution = " + I() + " AND person = :p AND seq = :s", soci::use(text),
              soci::use(person_id), soci::use(seq);
      }
    }
    // The act: whose data (the id and the token), which categories, when, by
    // whom, on what grounds, and the history about them — naming no one.
    json history = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT at, actor, role, event, note FROM person_history WHERE institution = " + I() +
                                                     " AND person = :p ORDER BY seq",
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
    *sql_ << "SELECT MIN(person) FROM person_roles WHERE institution = " + I() + " AND role = 'director'", soci::into(director, di);
    json ctx = {{"institution", {{"name", Setting("institution")}}},
                {"today", RussianDate(FormatDate(now.today))},
                {"person", {{"id", person_id}, {"token", token}}},
                {"had_name", ni == soci::i_ok},
                {"had_birth", bi == soci::i_ok},
                {"had_email", mi == soci::i_ok},
                {"documents", destroyed},
                {"redacted", redacted},
                {"has_redacted", !redacted.empty()},
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
        << "INSERT INTO destruction_acts (institution, person, at, actor, grounds, content, sha256) VALUES (" + I() + ", :p, :a, :b, :g, :c, :h)",
        soci::use(person_id), soci::use(at), soci::use(actor_id), soci::use(grounds), soci::use(content),
        soci::use(sha);
    if (Status s = AppendPersonHistory(person_id, actor_id, actor.Holds("director") ? "director" : "curator", "erased",
                                       "act:" + person_id + "; " + grounds, now);
        !s.ok())
      return s;
    // The account goes with the data: its sessions, tokens, calendar feeds and password.
    for (const char* table : {"sessions", "account_tokens", "calendar_feeds", "accounts"})
      *sql_ << std::string("DELETE FROM ") + table + " WHERE institution = " + I() + " AND person = :p",
          soci::use(person_id);
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
