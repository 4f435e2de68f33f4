// Documents: issued with their content fixed (the template rendered with the
// instance as it was, stored with its SHA-256), signed in the places their
// signers fill as rules.h decides, each status change through the document
// lifecycle (engine/document_lifecycle.h), each signature a history entry.
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "engine/document_lifecycle.h"
#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {
namespace {


constexpr const char* kDocumentColumns =
    "SELECT d.instance, i.workflow, i.workflow_version, d.name, d.issue, d.template, d.issued_at, d.status,"
    " d.signatures, d.content, d.sha256, i.fields, d.erased_at, d.redacted_at FROM documents d JOIN instances i"
    " ON i.institution = d.institution AND i.id = d.instance";

// "agreement" or "agreement:2".
bool SplitDoc(const std::string& doc, std::string* name, long long* issue) {
  *issue = 0;
  auto colon = doc.find(':');
  *name = doc.substr(0, colon);
  if (colon == std::string::npos) return true;
  const std::string n = doc.substr(colon + 1);
  if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) return false;
  *issue = std::stoll(n);
  return *issue > 0;
}

}  // namespace

std::string Sha256Hex(const std::string& bytes) {
  static const int ready = sodium_init();  // once; safe to repeat
  (void)ready;
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

std::string SociStore::SignaturesJson(const std::vector<Signature>& sigs) {
  json arr = json::array();
  for (const auto& s : sigs) {
    json j = {{"person", s.person}, {"as", s.as}, {"capacity", s.capacity}, {"at", s.at}};
    if (!s.via.empty()) j["via"] = s.via;
    arr.push_back(std::move(j));
  }
  return arr.dump();
}

std::vector<Signature> SociStore::ParseSignatures(const std::string& text) {
  std::vector<Signature> out;
  for (const auto& s : json::parse(text)) {
    if (s.is_string()) {  // schema v2 kept person ids only
      out.push_back({s.get<std::string>(), "", "", ""});
      continue;
    }
    out.push_back({s.value("person", ""), s.value("as", ""), s.value("capacity", ""), s.value("at", ""), s.value("via", "")});
  }
  return out;
}

json SociStore::DocumentContext(const Definition& def, const DocumentDef& doc, const std::string& id,
                                const std::vector<Value>& fields, long long issue, const Now& now,
                                DocumentPeople* people) {
  DocumentPeople seen;
  // A person's data as templates print it; their guardian is named too.
  auto person = [&](const std::string& pid, bool subject) {
    subject ? seen.Subject(pid) : seen.Mentioned(pid);
    json p = {{"id", pid}, {"name", pid}};
    std::string name, birth, guardian;
    soci::indicator ni = soci::i_null, bi = soci::i_null, gi = soci::i_null;
    *sql_ << "SELECT d.name, d.birth, p.guardian FROM people p LEFT JOIN person_data d"
             " ON d.institution = p.institution AND d.id = p.id WHERE p.institution = " + I() + " AND p.id = :id",
        soci::into(name, ni), soci::into(birth, bi), soci::into(guardian, gi), soci::use(pid);
    if (ni == soci::i_ok) p["name"] = name;
    if (bi == soci::i_ok) p["birth"] = RussianDate(birth);
    // A minor on the day of issue, and who acts for them (engine/rules.h):
    // `under14` — their legal representative in their place; `teen` — they
    // themselves, with the representative's consent. The representative is
    // the one registered, whether or not a field of the instance names them.
    const Capacity cap = bi == soci::i_ok ? CapacityOn(ParseDate(birth), now.today) : Capacity::kFull;
    p["minor"] = cap != Capacity::kFull;
    p["under14"] = cap == Capacity::kRepresented;
    p["teen"] = cap == Capacity::kWithConsent;
    if (gi == soci::i_ok) {
      p["guardian"] = {{"id", guardian}, {"name", PersonName(guardian)}};
      seen.Mentioned(guardian);
    }
    return p;
  };
  std::string director;
  soci::indicator di = soci::i_null;
  *sql_ << "SELECT MIN(person) FROM person_roles WHERE institution = " + I() + " AND role = 'director'",
      soci::into(director, di);
  json ctx = {{"institution", {{"name", Setting("institution")}}},
              {"today", RussianDate(FormatDate(now.today))},
              {"document", {{"name", doc.name}, {"title", doc.title}, {"issue", issue},
                            {"id", id + ":" + doc.name + ":" + std::to_string(issue)}}},
              {"workflow", {{"name", def.name}, {"title", def.title}}},
              {"instance", {{"id", id}}}};
  // Templates print {{institution.director}}: the director's name.
  if (di == soci::i_ok) {
    ctx["institution"]["director"] = PersonName(director);
    seen.Mentioned(director);
  }
  // A person in a list (a group's members) is a party to the text.
  auto name = [&](const std::string& p) {
    seen.Subject(p);
    return PersonName(p);
  };
  json shown = json::object();
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& f = def.fields[i];
    if (f.type == FieldType::kList) {
      json items = json::array();
      if (const auto* list = std::get_if<mentorflow::List>(&fields[i]))
        for (const auto& rec : *list) {
          json item = {{"id", rec.id}};
          for (size_t k = 0; k < f.item_fields.size() && k < rec.values.size(); ++k) {
            const FieldDef& sub = f.item_fields[k];
            item[sub.name] = FieldDisplay(sub, rec.values[k], name);
            if (sub.type == FieldType::kEnum) item[sub.name + "_title"] = item[sub.name];
          }
          items.push_back(std::move(item));
        }
      ctx[f.name] = std::move(items);
      continue;
    }
    shown[f.name] = FieldDisplay(f, fields[i], name);
    if (f.type == FieldType::kEnum) shown[f.name + "_title"] = shown[f.name];
    // The instance's people are its parties; its curator or director acts in office.
    if (f.type == FieldType::kPerson && IsSet(fields[i]))
      ctx[f.name] = person(std::get<std::string>(fields[i]), f.role != "curator" && f.role != "director");
  }
  ctx["fields"] = std::move(shown);
  // `statistics: {annual: FIELD}`: the year's figures as they stand now,
  // with the value lists in the YAML's order for tables.
  if (doc.statistics_year >= 0)
    if (const auto* year = std::get_if<std::int64_t>(&fields[doc.statistics_year])) {
      AnnualFigures f;
      if (AnnualFiguresUnlocked(static_cast<int>(*year), now, &f).ok()) {
        json st = AnnualFiguresJson(f);
        for (const char* group : {"by_form", "by_kind", "terminated_by_reason"}) {
          json rows = json::array();
          for (const auto& e : f.Entries(group)) rows.push_back({{"value", e.value}, {"title", e.title}, {"count", e.count}});
          st[std::string(group) + "_rows"] = std::move(rows);
        }
        // A decimal comma, as Russian documents write numbers.
        if (f.mean_days_completed) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.1f", *f.mean_days_completed);
          std::string text = buf;
          std::replace(text.begin(), text.end(), '.', ',');
          st["mean_days_completed"] = text;
        }
        st["as_of"] = RussianDate(FormatDate(now.today));
        ctx["stats"] = std::move(st);
      }
    }
  // The curator responsible: a curator field of the instance, else of the
  // nearest instance above it (a plan's pair, a pair's programme), else the
  // institution's only curator.
  if (!ctx.contains("curator")) {
    std::string parent;
    soci::indicator pi = soci::i_null;
    *sql_ << "SELECT parent FROM instances WHERE institution = " + I() + " AND id = :id", soci::into(parent, pi),
        soci::use(id);
    for (int depth = 0; depth < 8 && pi == soci::i_ok && !parent.empty() && !ctx.contains("curator"); ++depth) {
      InstanceRecord rec;
      if (!ShowUnlocked(parent, &rec).ok()) break;
      Status st;
      const Definition* pdef = DefinitionFor(rec.workflow, rec.workflow_version, &st);
      if (!pdef) break;
      const auto pfields = SnapshotOf(*pdef, rec).fields;
      for (size_t i = 0; i < pdef->fields.size(); ++i)
        if (pdef->fields[i].type == FieldType::kPerson && pdef->fields[i].role == "curator" && IsSet(pfields[i])) {
          ctx["curator"] = person(std::get<std::string>(pfields[i]), false);
          break;
        }
      parent = rec.parent;
      pi = parent.empty() ? soci::i_null : soci::i_ok;
    }
  }
  if (!ctx.contains("curator")) {
    std::vector<std::string> curators;
    soci::rowset<std::string> rs = (sql_->prepare << "SELECT person FROM person_roles WHERE institution = " + I() +
                                                     " AND role = 'curator' ORDER BY person");
    for (const auto& c : rs) curators.push_back(c);
    if (curators.size() == 1) ctx["curator"] = person(curators[0], false);
  }
  // A document one person signs is about that person (a consent): `person`
  // is them, and `guardian` their registered guardian unless a field says.
  if (doc.signers.size() == 1 && ctx.contains(doc.signers[0]) && ctx[doc.signers[0]].is_object()) {
    ctx["person"] = ctx[doc.signers[0]];
    if (!ctx.contains("guardian") && ctx["person"].contains("guardian")) ctx["guardian"] = ctx["person"]["guardian"];
  }
  if (people) people->Merge(seen);
  return ctx;
}

void SociStore::RecordDocumentPeople(const std::string& document, const DocumentPeople& people) {
  for (const auto& [person, capacity] : people.people())
    *sql_ << "INSERT INTO document_people (institution, document, person, capacity) VALUES (" + I() + ", :d, :p, :c)",
        soci::use(document),
        soci::use(person), soci::use(capacity);
}

Status SociStore::IssueDocument(const Definition& def, const DocumentDef& doc, const std::string& id,
                                const std::vector<Value>& fields, long long issue, const std::string& issued_at,
                                const Now& now) {
  std::string content;
  DocumentPeople people;
  if (Status s = RenderDocumentTemplate(options_.templates_dir, doc.template_name,
                                        DocumentContext(def, doc, id, fields, issue, now, &people), &content);
      !s.ok())
    return s;
  RecordDocumentPeople(id + ":" + doc.name + ":" + std::to_string(issue), people);
  auto& ins = q_.Get(q_.insert_document);
  ins.instance = id;
  ins.name = doc.name;
  ins.issue = issue;
  ins.template_name = doc.template_name;
  ins.issued_at = issued_at;
  ins.content = content;
  ins.sha256 = Sha256Hex(content);
  ins.Run();
  // The figures as this issue states them, for the regional centre once signed.
  if (doc.to_region && doc.statistics_year >= 0)
    if (const auto* year = std::get_if<std::int64_t>(&fields[doc.statistics_year])) {
      AnnualFigures f;
      if (Status s = AnnualFiguresUnlocked(static_cast<int>(*year), now, &f); !s.ok()) return s;
      json figures = AnnualFiguresJson(f);
      for (const auto& d : f.declared) figures["titles"][d.group][d.value] = d.title;
      const std::string text = figures.dump();
      long long y = *year;
      *sql_ << "INSERT INTO annual_reports (institution, year, instance, issue, figures, issued_at)"
               " VALUES (" + I() + ", :y, :i, :n, :f, :t)",
          soci::use(y), soci::use(id), soci::use(issue), soci::use(text), soci::use(issued_at);
    }
  return Status::Ok();
}

DocumentRecord SociStore::ReadDocument(const soci::row& r) {
  DocumentRecord d;
  d.instance = r.get<std::string>(0);
  d.workflow = r.get<std::string>(1);
  const int version = static_cast<int>(RowInt(r, 2));
  d.name = r.get<std::string>(3);
  d.issue = RowInt(r, 4);
  d.template_name = r.get<std::string>(5);
  d.issued_at = r.get<std::string>(6);
  d.status = r.get<std::string>(7);
  const auto sigs = ParseSignatures(r.get<std::string>(8));
  d.content = RowText(r, 9);
  d.sha256 = RowText(r, 10);
  d.erased_at = RowText(r, 12);
  d.redacted_at = RowText(r, 13);
  d.intact = d.sha256.empty() || !d.erased_at.empty() || !d.redacted_at.empty() || Sha256Hex(d.content) == d.sha256;
  Status st;
  const Definition* def = DefinitionFor(d.workflow, version, &st);
  if (!def) throw StoredStateError("document " + d.Id() + ": " + st.message());
  const int di = def->DocumentIndex(d.name);
  if (di < 0) throw StoredStateError("document " + d.Id() + ": its workflow has no such document");
  const DocumentDef& dd = def->documents[di];
  d.title = dd.title.empty() ? dd.name : dd.title;
  std::vector<Value> fields;
  try {
    fields = FieldsFromJson(*def, r.get<std::string>(11));
  } catch (const std::exception& e) {
    throw StoredStateError("instance '" + d.instance + "' cannot be read: " + e.what());
  }
  const std::optional<Date> issued_on = ParseDate(d.issued_at.substr(0, 10));
  for (const auto& as : dd.signers) {
    DocumentRecord::Place p;
    p.as = as;
    const int fi = def->FieldIndex(as);
    p.title = fi >= 0 && !def->fields[fi].title.empty() ? def->fields[fi].title
              : def->HasRole(as)                          ? def->RoleTitle(as)
                                                          : as;
    if (fi >= 0 && IsSet(fields[fi])) p.person = std::get<std::string>(fields[fi]);
    auto sign = [](DocumentRecord::Place& place, const Signature& s) {
      place.capacity = s.capacity;
      place.signed_at = s.at;
      place.signed_by = s.person;
      place.via = s.via;
    };
    if (fi < 0) {  // a role: whoever signed as it
      for (const auto& s : sigs)
        if (s.as == as) {
          if (p.person.empty()) p.person = s.person;
          sign(p, s);
        }
      if (!p.person.empty()) p.name = PersonName(p.person);
      if (!p.signed_by.empty()) p.signed_by_name = p.signed_by == p.person ? p.name : PersonName(p.signed_by);
      d.places.push_back(std::move(p));
      continue;
    }
    // A person's place, and for a minor their legal representative's line
    // beside it: in place of a child under 14, beside a teenager of 14 to
    // 17 (engine/rules.h). The representative is who signed as such, else
    // the one registered now.
    DocumentRecord::Place rep;
    rep.as = as;
    rep.title = p.title;
    rep.representative = true;
    rep.ward = p.person;
    for (const auto& s : sigs) {
      if (s.as != as) continue;
      if (s.capacity == kGuardianOf + p.person || s.capacity == kCosigningGuardianOf + p.person) {
        rep.person = s.person;
        sign(rep, s);
      } else if (s.person == p.person || p.person.empty()) {
        if (p.person.empty()) p.person = s.person;
        sign(p, s);
      }
    }
    ConsentSubject subject;
    Capacity cap = Capacity::kFull;
    if (!p.person.empty() && LoadSubject(p.person, &subject) && issued_on) cap = CapacityOn(subject.birth, *issued_on);
    if (rep.person.empty() && cap != Capacity::kFull) rep.person = subject.guardian;
    const bool with_rep = !rep.signed_at.empty() || cap != Capacity::kFull;
    p.represented = p.signed_at.empty() && (cap == Capacity::kRepresented || rep.capacity == kGuardianOf + p.person);
    if (!p.person.empty()) p.name = PersonName(p.person);
    if (!p.signed_by.empty()) p.signed_by_name = p.name;
    d.places.push_back(std::move(p));
    if (with_rep) {
      if (!rep.person.empty()) rep.name = PersonName(rep.person);
      rep.signed_by_name = rep.signed_by.empty() ? "" : rep.name;
      d.places.push_back(std::move(rep));
    }
  }
  return d;
}

Status SociStore::Documents(const std::string& instance, std::vector<DocumentRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    std::vector<soci::row> rows;
    if (!instance.empty()) {
      if (Status s = ShowUnlocked(instance, nullptr); !s.ok()) return s;
      soci::rowset<soci::row> rs = (sql_->prepare << std::string(kDocumentColumns) +
                                                         " WHERE d.institution = " + I() +
                                                         " AND d.instance = :i ORDER BY d.issued_at, d.name, d.issue",
                                    soci::use(instance));
      for (const auto& r : rs) out->push_back(ReadDocument(r));
    } else {
      soci::rowset<soci::row> rs =
          (sql_->prepare << std::string(kDocumentColumns) + " WHERE d.institution = " + I() +
                                " ORDER BY d.issued_at, d.instance, d.name, d.issue");
      for (const auto& r : rs) out->push_back(ReadDocument(r));
    }
    // Orders: all of them, or those listing the instance.
    std::vector<std::pair<long long, long long>> orders;
    {
      soci::rowset<soci::row> rs =
          instance.empty()
              ? (sql_->prepare << "SELECT year, number FROM orders WHERE institution = " + I() +
                                      " ORDER BY issued_at, year, number")
              : (sql_->prepare << "SELECT o.year, o.number FROM orders o WHERE o.institution = " + I() +
                                      " AND EXISTS (SELECT 1 FROM order_items t"
                                      " WHERE t.institution = o.institution AND t.year = o.year AND t.number = o.number AND t.instance = :i)"
                                  " ORDER BY o.issued_at, o.year, o.number",
                 soci::use(instance));
      for (const auto& r : rs) orders.emplace_back(RowInt(r, 0), RowInt(r, 1));
    }
    for (const auto& [year, number] : orders) {
      out->emplace_back();
      if (Status s = ReadOrder(year, number, &out->back()); !s.ok()) return s;
    }
    // Consents: all of them, or those of the people the instance names.
    std::vector<std::pair<std::string, long long>> consents;
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT person, issue FROM consents WHERE institution = " + I() +
                                                     " ORDER BY issued_at, person, issue");
      for (const auto& r : rs) consents.emplace_back(r.get<std::string>(0), RowInt(r, 1));
    }
    std::vector<std::string> named;
    if (!instance.empty()) {
      InstanceRecord rec;
      const Definition* def = nullptr;
      if (Status s = LoadInstance(instance, &rec, &def, "", nullptr); !s.ok()) return s;
      const auto fields = SnapshotOf(*def, rec).fields;
      for (size_t i = 0; i < def->fields.size(); ++i)
        if (def->fields[i].type == FieldType::kPerson && IsSet(fields[i]))
          named.push_back(std::get<std::string>(fields[i]));
    }
    for (const auto& [person, issue] : consents) {
      if (!instance.empty() && std::find(named.begin(), named.end(), person) == named.end()) continue;
      out->emplace_back();
      if (Status s = ReadConsent(person, issue, &out->back()); !s.ok()) return s;
    }
    if (instance.empty()) {  // destruction acts
      std::vector<std::string> erased;
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT person FROM destruction_acts WHERE institution = " + I() +
                                                       " ORDER BY at, person");
      for (const auto& p : rs) erased.push_back(p);
      for (const auto& p : erased) {
        out->emplace_back();
        if (Status s = ReadAct(p, &out->back()); !s.ok()) return s;
      }
    }
    std::stable_sort(out->begin(), out->end(),
                     [](const DocumentRecord& a, const DocumentRecord& b) { return a.issued_at < b.issued_at; });
    return Status::Ok();
  });
}

Status SociStore::Document(const std::string& instance, const std::string& doc, DocumentRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    std::string name;
    long long issue = 0;
    if (!SplitDoc(doc, &name, &issue))
      return Status::BadInput("a document is INSTANCE:NAME or INSTANCE:NAME:ISSUE (ISSUE a whole number from 1)");
    if (instance == "consent") {  // consent:PERSON[:ISSUE]
      if (Status s = CheckId("a person id", name); !s.ok()) return s;
      return ReadConsent(name, issue, out);
    }
    if (instance == "act") {  // act:PERSON
      if (Status s = CheckId("a person id", name); !s.ok()) return s;
      return ReadAct(name, out);
    }
    if (Status s = ShowUnlocked(instance, nullptr); !s.ok()) return s;
    if (issue == 0) {
      soci::indicator ind = soci::i_null;
      *sql_ << "SELECT MAX(issue) FROM documents WHERE institution = " + I() + " AND instance = :i AND name = :n",
          soci::into(issue, ind), soci::use(instance), soci::use(name);
      if (ind != soci::i_ok)
        return Status::NotFound("document '" + name + "' has not been issued for instance " + instance);
    }
    soci::rowset<soci::row> rs =
        (sql_->prepare << std::string(kDocumentColumns) + " WHERE d.institution = " + I() +
                            " AND d.instance = :i AND d.name = :n AND d.issue = :v",
         soci::use(instance), soci::use(name), soci::use(issue));
    bool found = false;
    for (const auto& r : rs) {
      *out = ReadDocument(r);
      found = true;
    }
    if (!found)
      return Status::NotFound("no document " + instance + ":" + name + ":" + std::to_string(issue));
    return Status::Ok();
  });
}

// The people an instance's person fields name, read from the stored JSON:
// an instance whose state or other fields its workflow no longer knows (a
// hand-edited database) still says who it concerns.
std::vector<std::string> SociStore::PeopleNamedIn(const Definition& def, const InstanceRecord& rec) {
  std::vector<std::string> out;
  const json fields = json::parse(rec.fields_json, nullptr, false);
  if (!fields.is_object()) return out;
  for (const auto& f : def.fields)
    if (f.type == FieldType::kPerson && fields.contains(f.name) && fields[f.name].is_string())
      out.push_back(fields[f.name].get<std::string>());
  return out;
}

Status SociStore::RecordReads(const std::vector<std::string>& people, const std::string& actor_id,
                              const std::string& capacity, const std::string& note, const Now& now) {
  for (const auto& person : people) {
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n),
        soci::use(person);
    if (n == 0) continue;  // an id a field still holds after its person was removed
    if (Status s = AppendPersonHistory(person, actor_id, capacity, "read", note, now); !s.ok()) return s;
  }
  return Status::Ok();
}

Status SociStore::RecordDocumentRead(const DocumentRecord& doc, const std::string& actor_id, const std::string& how,
                                     const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    // The people the document names: the person fields of its instance (of
    // every instance an order lists) and who signed.
    std::vector<std::string> named, allowed;
    std::vector<std::string> instances = doc.number.empty() ? std::vector<std::string>{doc.instance} : doc.items;
    if (!doc.subject.empty()) {  // a consent names its person (and, in its text, their guardian)
      instances.clear();
      named.push_back(doc.subject);
    }
    for (const auto& id : instances) {
      InstanceRecord rec;
      const Definition* def = nullptr;
      if (Status s = LoadInstance(id, &rec, &def, actor_id, nullptr); !s.ok()) return s;
      for (auto& person : PeopleNamedIn(*def, rec)) named.push_back(std::move(person));
    }
    for (const auto& p : doc.places) {
      // A representative's line reads through their ward (SubjectActors),
      // and only while the ward is a minor.
      if (p.person.empty() || p.representative) continue;
      named.push_back(p.person);
      ConsentSubject signer;  // the signer, or their guardian while they are a minor
      if (LoadSubject(p.person, &signer))
        for (const auto& a : SubjectActors(signer, now.today)) allowed.push_back(a);
    }
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    std::string capacity;
    // Anyone the document does not concern is told what an unknown id is told.
    const Status unknown = !doc.number.empty() ? Status::NotFound("no order " + doc.number)
                           : doc.name == "act" && !doc.subject.empty()
                               ? Status::NotFound("no destruction act for '" + doc.subject + "' (not erased)")
                           : !doc.subject.empty() ? Status::NotFound("no consent document of '" + doc.subject + "'")
                                                  : Status::NotFound("no instance '" + doc.instance + "'");
    if (Status s = MayReadPersonalData(LoadActor(actor_id), allowed, named, unknown, &capacity); !s.ok()) return s;
    const std::string note = how == "show" ? "doc show " + doc.Id() : "doc render " + doc.Id() + " (" + how + ")";
    if (Status s = RecordReads(named, actor_id, capacity, note, now); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::AuthorizeRead(const ReadScope& scope, const std::string& actor_id, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    // A database opened read-only (a file its reader may not write) cannot
    // keep the record; the rule still applies.
    std::optional<Tx> tx;
    if (!options_.read_only && scope.record) tx.emplace(*this);  // a check alone writes nothing
    const Actor actor = LoadActor(actor_id);
    std::vector<std::string> named = scope.people, allowed;
    std::string capacity;
    Status unknown(Code::kRefused,
                   "role: " + actor_id +
                       " may read only what is theirs or their ward's (a curator or the director reads everyone's)",
                   "role");
    if (!scope.instance.empty()) {
      InstanceRecord rec;
      const Definition* def = nullptr;
      if (Status s = LoadInstance(scope.instance, &rec, &def, actor_id, nullptr); !s.ok()) return s;
      for (auto& person : PeopleNamedIn(*def, rec)) named.push_back(std::move(person));
      // A role that acts on every instance of the workflow (not one bound to
      // a person field, as mentor or participant): its holders read them.
      for (const auto& t : def->transitions)
        for (const auto& role : t.by)
          if (role != "system" && def->FieldIndex(role) < 0 && actor.Holds(role) && capacity.empty()) capacity = role;
      unknown = Status::NotFound("no instance '" + scope.instance + "'");
    }
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    bool all_theirs = true;  // every one of them is the actor or their ward
    for (const auto& person : named) {
      ConsentSubject subject;  // the person, or their guardian while they are a minor
      std::vector<std::string> theirs;
      if (LoadSubject(person, &subject)) theirs = SubjectActors(subject, now.today);
      all_theirs = all_theirs && std::find(theirs.begin(), theirs.end(), actor_id) != theirs.end();
      allowed.insert(allowed.end(), theirs.begin(), theirs.end());
    }
    if (!scope.people.empty() && !all_theirs) allowed.clear();  // recipients: each one's own, or an office holder's
    if (capacity.empty())
      if (Status s = MayReadPersonalData(actor, allowed, scope.instance.empty() ? std::vector<std::string>{} : named,
                                         unknown, &capacity);
          !s.ok())
        return s;
    if (!tx || !scope.record) return Status::Ok();
    if (Status s = RecordReads(named, actor_id, capacity, scope.what, now); !s.ok()) return s;
    tx->Commit();
    return Status::Ok();
  });
}

Status SociStore::Sign(const std::string& id, const std::string& doc_arg, const std::string& actor_id,
                       const Now& now, std::string* status_out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    std::string doc;
    long long wanted = 0;
    if (!SplitDoc(doc_arg, &doc, &wanted))
      return Status::BadInput("a document is INSTANCE:NAME or INSTANCE:NAME:ISSUE (ISSUE a whole number from 1)");
    if (!check_only_)
      if (Status s = FireOverdueFirst(id, now); !s.ok()) return s;
    Tx tx(*this);
    InstanceRecord rec;
    const Definition* def = nullptr;
    Actor actor;
    if (Status s = LoadInstance(id, &rec, &def, actor_id, &actor); !s.ok()) return s;
    const Snapshot snap = SnapshotOf(*def, rec);  // a state or field it does not know: exit 5, first
    int di = def->DocumentIndex(doc);
    if (di < 0) return Status::NotFound("workflow '" + def->name + "' has no document '" + doc + "'");
    long long issue = 0;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MAX(issue) FROM documents WHERE institution = " + I() + " AND instance = :i AND name = :n",
        soci::into(issue, ind), soci::use(id), soci::use(doc);
    if (ind != soci::i_ok) return Status::NotFound("document '" + doc + "' has not been issued for instance " + id);
    if (wanted > issue) return Status::NotFound("no document " + id + ":" + doc + ":" + std::to_string(wanted));
    if (wanted == 0) wanted = issue;
    const DocumentDef& dd = def->documents[di];
    const auto& fields = snap.fields;
    std::string sigs_text, status_text, content, sha256, erased;
    soci::indicator ci = soci::i_null, hi = soci::i_null, ei = soci::i_null;
    *sql_ << "SELECT signatures, status, content, sha256, erased_at FROM documents WHERE institution = " + I() +
                 " AND instance = :i AND name = :n AND issue = :s",
        soci::into(sigs_text), soci::into(status_text), soci::into(content, ci), soci::into(sha256, hi),
        soci::into(erased, ei), soci::use(id), soci::use(doc), soci::use(wanted);
    const std::string which = id + ":" + doc + ":" + std::to_string(wanted);
    if (ei == soci::i_ok)
      return Status(Code::kRefused,
                    "erased: the text of " + which + " was destroyed on " + LocalDay(erased, Zone()) +
                        " with the personal data of someone it named; the curator issues it again",
                    "erased");
    auto from = ParseDocumentStatus(status_text);
    if (!from) throw StoredStateError("document " + which + " has status '" + status_text + "', which documents do not have");
    if (hi == soci::i_ok && (ci != soci::i_ok || Sha256Hex(content) != sha256))
      return Status(Code::kRefused,
                    "altered: document " + which +
                        " no longer matches the SHA-256 it was issued with (its stored text was changed); it cannot"
                        " be signed — the curator re-issues it",
                    "altered");
    if (*from == DocumentStatus::kSuperseded)
      return Status(Code::kRefused,
                    "document: " + which + " was superseded by issue " + std::to_string(issue) + "; sign " + id + ":" +
                        doc,
                    "document");
    std::vector<Signature> sigs = ParseSignatures(sigs_text);
    // Everyone the instance names: the signers' ages decide who signs, and
    // a revoked consent of anyone suspends the signing.
    std::map<std::string, ConsentSubject> people;
    for (size_t fi = 0; fi < def->fields.size(); ++fi) {
      if (def->fields[fi].type != FieldType::kPerson || !IsSet(fields[fi])) continue;
      const std::string& person = std::get<std::string>(fields[fi]);
      ConsentSubject subject;
      if (!LoadSubject(person, &subject)) continue;
      int flag = 0, revoked = 0;
      *sql_ << "SELECT consent FROM people WHERE institution = " + I() + " AND id = :p", soci::into(flag),
          soci::use(person);
      *sql_ << "SELECT COUNT(*) FROM consents WHERE institution = " + I() + " AND person = :p AND status = 'revoked'",
          soci::into(revoked),
          soci::use(person);
      subject.consent_revoked = flag == 0 && revoked > 0;
      people[person] = subject;
    }
    SignRuling ruling = MaySign(*def, dd, snap.state, fields, actor, sigs, people, now.today);
    if (!ruling.status.ok()) return ruling.status;
    if (check_only_) return Status::Ok();  // MaySignNow: nothing was written
    sigs.push_back({actor.id, ruling.as, ruling.capacity, FormatInstant(now.instant), channel_});
    const bool all = FullySigned(*def, dd, fields, sigs);
    DocumentStep step = AdvanceDocument(*from, DocumentEvent::kSign, all);
    if (!step.status.ok()) return step.status;
    std::string status(DocumentStatusName(step.to)), text = SignaturesJson(sigs);
    *sql_ << "UPDATE documents SET signatures = :g, status = :s WHERE institution = " + I() +
                 " AND instance = :i AND name = :n AND issue = :v",
        soci::use(text), soci::use(status), soci::use(id), soci::use(doc), soci::use(wanted);
    const bool own = ruling.capacity == kSelf || ruling.capacity == ruling.as;
    std::string note = doc + " issue " + std::to_string(wanted) + " signed as " + ruling.as +
                       (own ? "" : " (" + ruling.capacity + ")") + (all ? "; the document is signed" : "");
    if (Status s = AppendNote(*def, rec, actor.id, ruling.as, "sign", note, now); !s.ok()) return s;
    if (all && dd.to_region) {
      const std::string at = FormatInstant(now.instant);
      *sql_ << "UPDATE annual_reports SET signed_at = :a WHERE institution = " + I() +
                   " AND instance = :i AND issue = :v",
          soci::use(at), soci::use(id), soci::use(wanted);
    }
    tx.Commit();
    if (status_out) *status_out = status;
    return Status::Ok();
  });
}

Status SociStore::MaySignNow(const std::string& doc, const std::string& actor_id, const Now& now) {
  // Sign and SignOrder themselves, told to stop after their checks: one rule.
  struct Flag {
    bool& f;
    explicit Flag(bool& flag) : f(flag) { f = true; }
    ~Flag() { f = false; }
  } flag(check_only_);
  const auto colon = doc.find(':');
  if (colon == std::string::npos) return SignOrder(doc, actor_id, now, nullptr, nullptr);
  return Sign(doc.substr(0, colon), doc.substr(colon + 1), actor_id, now, nullptr);
}

}  // namespace mentorflow::storage
