// Consent to personal-data processing as a signed document of the person:
// issued from templates/consent.mustache and signed at once (by the person,
// their guardian, or a curator recording a paper form), revoked through the
// document lifecycle. Revocation stops processing in the same transaction:
// `consent_revoked` goes, by system, to every running instance naming the
// person whose state takes it; a renewed consent sends `consent_renewed`.
#include <regex>

#include "engine/document_lifecycle.h"
#include "engine/render.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {
namespace {

constexpr const char* kConsentTemplate = "consent";

// A consent's template: templates/consent.mustache for the default purpose,
// templates/consent_PURPOSE.mustache for another.
std::string ConsentTemplate(const std::string& purpose) {
  return purpose == kDefaultPurpose ? kConsentTemplate : std::string(kConsentTemplate) + "_" + purpose;
}

// The record's title is the template's own first heading, so that it is in
// the template's language and the curator's words.
std::string FirstHeading(const std::string& xhtml) {
  static const std::regex h1("<h1[^>]*>([^<]*)</h1>");
  std::smatch m;
  return std::regex_search(xhtml, m, h1) ? m[1].str() : std::string(kConsentTemplate);
}

}  // namespace

std::vector<std::string> SociStore::InstancesNaming(const std::string& person_id, bool running_only) {
  std::vector<InstanceRecord> candidates;
  {
    const std::string like = "%\"" + person_id + "\"%";
    soci::rowset<std::string> rs =
        (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() + " AND fields LIKE :l ORDER BY created, id", soci::use(like));
    std::vector<std::string> ids(rs.begin(), rs.end());
    for (const auto& id : ids) {
      InstanceRecord rec;
      if (ShowUnlocked(id, &rec).ok()) candidates.push_back(rec);
    }
  }
  std::vector<std::string> out;
  for (const auto& rec : candidates) {
    Status st;
    const Definition* def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
    if (!def) continue;
    const Snapshot snap = SnapshotOf(*def, rec);
    if (running_only && def->states[snap.state].final) continue;
    for (size_t i = 0; i < def->fields.size(); ++i)
      if (def->fields[i].type == FieldType::kPerson && IsSet(snap.fields[i]) &&
          std::get<std::string>(snap.fields[i]) == person_id) {
        out.push_back(rec.id);
        break;
      }
  }
  return out;
}

std::vector<std::string> SociStore::KnownPurposes() {
  std::vector<std::string> out = {kDefaultPurpose};
  soci::rowset<std::string> rs = (sql_->prepare << "SELECT DISTINCT name FROM " + CurrentDefinitions() + " ORDER BY name");
  const std::vector<std::string> names(rs.begin(), rs.end());
  for (const auto& name : names) {
    Status st;
    if (const Definition* def = DefinitionFor(name, LatestVersion(name), &st))
      if (std::find(out.begin(), out.end(), def->purpose) == out.end()) out.push_back(def->purpose);
  }
  return out;
}

long long SociStore::LatestConsent(const std::string& person_id, const std::string& purpose, std::string* status,
                                   std::string* signatures) {
  long long issue = 0;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT MAX(issue) FROM consents WHERE institution = " + I() + " AND person = :p AND purpose = :u", soci::into(issue, ind),
      soci::use(person_id), soci::use(purpose);
  if (ind != soci::i_ok) return 0;
  std::string st, sigs;
  *sql_ << "SELECT status, signatures FROM consents WHERE institution = " + I() + " AND person = :p AND issue = :i", soci::into(st), soci::into(sigs),
      soci::use(person_id), soci::use(issue);
  if (status) *status = st;
  if (signatures) *signatures = sigs;
  return issue;
}

bool SociStore::ConsentInForce(const std::string& person_id, const std::string& purpose) {
  if (purpose == kDefaultPurpose) {  // people.consent also holds consents given before they were documents
    int flag = 0;
    *sql_ << "SELECT consent FROM people WHERE institution = " + I() + " AND id = :id", soci::into(flag), soci::use(person_id);
    return flag != 0;
  }
  std::string status;
  return LatestConsent(person_id, purpose, &status) > 0 && status == "signed";
}

std::vector<std::string> SociStore::PurposesInForce(const std::string& person_id) {
  std::vector<std::string> out;
  for (const auto& p : KnownPurposes())
    if (ConsentInForce(person_id, p)) out.push_back(p);
  return out;
}

std::vector<std::string> SociStore::OfPurpose(const std::vector<std::string>& ids, const std::string& purpose) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    InstanceRecord rec;
    if (!ShowUnlocked(id, &rec).ok()) continue;
    Status st;
    const Definition* def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
    if (!def) continue;
    // The operator's duties (personal_data, which mentorflow starts) are of
    // the purpose whose consent they follow: their `purpose` field, the
    // default one for duties recorded before consents had purposes.
    const int f = def->FieldIndex("purpose");
    if (rec.workflow == "personal_data" && f >= 0) {
      const Snapshot snap = SnapshotOf(*def, rec);
      const std::string of = IsSet(snap.fields[f]) ? ValueToString(snap.fields[f]) : kDefaultPurpose;
      if (of == purpose) out.push_back(id);
    } else if (def->purpose == purpose) {
      out.push_back(id);
    }
  }
  return out;
}

Status SociStore::Cascade(const std::vector<std::string>& ids, const std::string& event, const Now& now,
                          std::vector<std::string>* sent) {
  SystemScope as_system(*this);
  for (const auto& id : ids) {
    InstanceRecord rec;
    const Definition* def = nullptr;
    if (Status s = LoadInstance(id, &rec, &def, "", nullptr); !s.ok()) return s;
    auto ev = std::find(def->events.begin(), def->events.end(), event);
    if (ev == def->events.end()) continue;
    auto [b, e] = def->Candidates(def->StateIndex(rec.state), static_cast<int>(ev - def->events.begin()));
    if (b == e) continue;
    Refusal refusal;
    Status s = Send(id, event, {}, "system", now, nullptr, &refusal);
    if (s.code() == Code::kRefused) continue;  // e.g. another participant's consent is still revoked
    if (!s.ok()) return s;
    if (sent) sent->push_back(id);
  }
  return Status::Ok();
}

Status SociStore::ReadConsent(const std::string& person_id, long long issue, DocumentRecord* out) {
  if (issue == 0) {
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MAX(issue) FROM consents WHERE institution = " + I() + " AND person = :p", soci::into(issue, ind), soci::use(person_id);
    if (ind != soci::i_ok) return Status::NotFound("no consent document of '" + person_id + "'");
  }
  std::string issued_at, status, signatures, content, sha256, paper, erased, redacted, purpose, tmpl;
  soci::indicator found = soci::i_null, pi = soci::i_null, ei = soci::i_null, ri = soci::i_null;
  *sql_ << "SELECT issued_at, status, signatures, content, sha256, paper_date, erased_at, redacted_at, purpose,"
           " template FROM consents WHERE institution = " + I() + " AND person = :p AND issue = :i",
      soci::into(issued_at, found), soci::into(status), soci::into(signatures), soci::into(content),
      soci::into(sha256), soci::into(paper, pi), soci::into(erased, ei), soci::into(redacted, ri), soci::into(purpose),
      soci::into(tmpl), soci::use(person_id), soci::use(issue);
  if (found != soci::i_ok) return Status::NotFound("no document consent:" + person_id + ":" + std::to_string(issue));
  DocumentRecord d;
  d.subject = person_id;
  d.name = "consent";
  d.issue = issue;
  d.template_name = tmpl;
  d.purpose = purpose;
  d.issued_at = issued_at;
  d.status = status;
  d.content = content;
  d.sha256 = sha256;
  if (ei == soci::i_ok) d.erased_at = erased;
  if (ri == soci::i_ok) d.redacted_at = redacted;
  d.intact = d.erased_at.empty() && d.redacted_at.empty() ? Sha256Hex(content) == sha256 : true;
  d.title = d.erased_at.empty() ? FirstHeading(content) : std::string(kConsentTemplate);
  if (pi == soci::i_ok) d.paper_date = paper;
  // The person's place, and for a minor their representative's line (as
  // in ReadDocument). A paper form recorded by a curator was signed on
  // paper by whoever signs at that age; the curator only entered it.
  DocumentRecord::Place p;
  p.as = person_id;
  p.person = person_id;
  p.name = PersonName(person_id);
  p.title = "";  // the subject of the data (the signature block says so)
  DocumentRecord::Place rep;
  rep.as = person_id;
  rep.representative = true;
  rep.ward = person_id;
  ConsentSubject subject;
  Capacity cap = Capacity::kFull;
  const std::optional<Date> issued_on = ParseDate(issued_at.substr(0, 10));
  if (LoadSubject(person_id, &subject) && issued_on) cap = CapacityOn(subject.birth, *issued_on);
  rep.person = subject.guardian;
  auto sign = [&](DocumentRecord::Place& place, const Signature& s) {
    place.capacity = s.capacity;
    place.signed_at = s.at;
    place.via = s.via;
    place.signed_by = s.person;
  };
  for (const auto& s : ParseSignatures(signatures)) {
    if (s.capacity.rfind("curator", 0) == 0) {  // a paper form, entered by a curator
      for (auto* place : {&p, &rep}) {
        if (place == &p && cap == Capacity::kRepresented) continue;
        if (place == &rep && cap == Capacity::kFull) continue;
        sign(*place, s);
        place->signed_by = place->person;
        place->entered_by = s.person;
        place->entered_by_name = PersonName(s.person);
      }
    } else if (s.capacity == kGuardianOf + person_id || s.capacity == kCosigningGuardianOf + person_id ||
               s.capacity == "guardian") {
      rep.person = s.person;
      sign(rep, s);
    } else {
      sign(p, s);
    }
  }
  p.represented = p.signed_at.empty() && (cap == Capacity::kRepresented || rep.capacity.rfind(kGuardianOf, 0) == 0);
  if (!p.signed_by.empty()) p.signed_by_name = p.name;
  const bool with_rep = !rep.signed_at.empty() || cap != Capacity::kFull;
  if (with_rep) {
    rep.name = rep.person.empty() ? "" : PersonName(rep.person);
    if (!rep.signed_by.empty()) rep.signed_by_name = rep.name;
  }
  for (auto* place : {&p, &rep})
    if (!place->entered_by.empty()) place->paper_date = d.paper_date;
  d.places.push_back(std::move(p));
  if (with_rep) d.places.push_back(std::move(rep));
  *out = std::move(d);
  return Status::Ok();
}

Status SociStore::SetConsent(const std::string& person_id, bool given, const std::string& actor_id, const Now& now,
                             const std::string& paper_date, const std::string& purpose) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    if (Status s = CheckPurpose(purpose); !s.ok()) return s;
    std::optional<Date> paper;
    if (!paper_date.empty()) {
      paper = ParseDate(paper_date);
      if (!paper) return Status::BadInput("--paper: '" + paper_date + "' is not a date YYYY-MM-DD (years 1900 to 2200)");
      if (*paper > now.today) return Status::BadInput("--paper: " + paper_date + " is after today");
    }
    Tx tx(*this);
    ConsentSubject subject;
    if (!LoadSubject(person_id, &subject)) return Status::NotFound("no person '" + person_id + "'");
    if (paper && subject.birth && *paper < *subject.birth)
      return Status::BadInput("--paper: " + paper_date + " is before " + person_id + " was born");
    const Actor actor = LoadActor(actor_id);
    std::string capacity;
    if (Status s = MayChangeConsent(subject, actor, given, now.today, &capacity); !s.ok()) return s;
    if (given && capacity == "curator" && !paper)
      return Status::BadInput("a curator records a paper form: give --paper YYYY-MM-DD, the date written on it");
    if (paper && capacity != "curator")
      return Status::BadInput("--paper is for a curator recording a paper form; " + actor_id + " signs here");
    const bool in_force = ConsentInForce(person_id, purpose);
    // The person's latest consent of this purpose (0: none yet).
    std::string last_status;
    const long long last = LatestConsent(person_id, purpose, &last_status);
    const std::string of_purpose = purpose == kDefaultPurpose ? "" : " for " + purpose;
    std::vector<std::string> sent;
    if (given) {
      if (in_force)
        return Status(Code::kRefused,
                      "consent: " + person_id + " has a valid consent" + of_purpose +
                          (last > 0 ? " (consent:" + person_id + ":" + std::to_string(last) + ")" : std::string()) +
                          "; nothing to sign",
                      "consent");
      // From 14 to 17 the teenager and the guardian both sign (CapacityOn):
      // the first signature leaves the consent partly signed and processing
      // still stopped; the second completes it.
      const Capacity age = CapacityOn(subject.birth, now.today);
      const bool together = age == Capacity::kWithConsent && capacity != "curator";
      const std::string sig_capacity =
          capacity == "guardian" ? (together ? kCosigningGuardianOf : kGuardianOf) + person_id
          : capacity == "curator" ? "curator (paper form of " + paper_date + ")"
          : together              ? kSelfWithConsent
                                  : capacity;
      if (together && last > 0 && last_status == "partly_signed") {
        const std::string id = "consent:" + person_id + ":" + std::to_string(last);
        std::string stored, content;
        *sql_ << "SELECT signatures, content FROM consents WHERE institution = " + I() + " AND person = :p AND issue = :i", soci::into(stored),
            soci::into(content), soci::use(person_id), soci::use(last);
        auto sigs = ParseSignatures(stored);
        for (const auto& sig : sigs)
          if (sig.capacity == sig_capacity)
            return Status(Code::kRefused,
                          "consent: " + id + " bears " + sig.person + "'s signature already and awaits " +
                              (capacity == "guardian" ? person_id + "'s own" : "their guardian " + subject.guardian + "'s"),
                          "consent");
        if (check_only_) {
          if (preview_out_) *preview_out_ = content;
          return Status::Ok();
        }
        DocumentStep step = AdvanceDocument(DocumentStatus::kPartlySigned, DocumentEvent::kSign, true);
        if (!step.status.ok()) return step.status;
        sigs.push_back({actor_id, person_id, sig_capacity, FormatInstant(now.instant), channel_});
        const std::string text = SignaturesJson(sigs), status(DocumentStatusName(step.to));
        *sql_ << "UPDATE consents SET signatures = :g, status = :s WHERE institution = " + I() + " AND person = :p AND issue = :i", soci::use(text),
            soci::use(status), soci::use(person_id), soci::use(last);
        if (purpose == kDefaultPurpose) *sql_ << "UPDATE people SET consent = 1 WHERE institution = " + I() + " AND id = :id", soci::use(person_id);
        if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "consent_signed",
                                           id + of_purpose + " (both signatures)", now);
            !s.ok())
          return s;
        if (Status s = Cascade(OfPurpose(RunningInstancesNaming(person_id), purpose), "consent_renewed", now, &sent);
            !s.ok())
          return s;
        tx.Commit();
        return Status::Ok();
      }
      // Signed here, the consent itself must state what art. 9 part 4
      // lists; a paper form states it on paper.
      if (!paper && !check_only_)
        if (auto missing = MissingParticulars(subject, now.today); !missing.empty())
          return ConsentLacks(person_id, missing);
      // The text names the person and, for a minor, the guardian.
      const bool minor = IsMinor(subject.birth, now.today);
      // Issues are numbered per person across purposes (consent:PERSON:ISSUE).
      long long issue = 0;
      soci::indicator ii = soci::i_null;
      *sql_ << "SELECT MAX(issue) FROM consents WHERE institution = " + I() + " AND person = :p", soci::into(issue, ii), soci::use(person_id);
      issue = (ii == soci::i_ok ? issue : 0) + 1;
      const std::string id = "consent:" + person_id + ":" + std::to_string(issue);
      // A person as the text states them: name, address, identity document.
      auto someone = [&](const std::string& pid) {
        json j = {{"id", pid}, {"name", PersonName(pid)}};
        const Particulars p = LoadParticulars(pid);
        if (!p.address.empty()) j["address"] = p.address;
        if (!p.document.Empty()) {
          // Every key set, so that none is looked up in the enclosing context.
          j["document"] = {{"kind", p.document.kind},
                           {"number", p.document.number},
                           {"issuer", p.document.issuer},
                           {"issued", p.document.issued.empty() ? "" : RussianDate(p.document.issued)}};
        }
        return j;
      };
      std::string director;
      soci::indicator di = soci::i_null;
      *sql_ << "SELECT MIN(person) FROM person_roles WHERE institution = " + I() + " AND role = 'director'", soci::into(director, di);
      json person = someone(person_id);
      if (subject.birth) person["birth"] = RussianDate(FormatDate(*subject.birth));
      json ctx = {{"institution", {{"name", Setting("institution")}, {"address", Setting("institution_address")}}},
                  {"today", RussianDate(FormatDate(now.today))},
                  {"document", {{"id", id}, {"issue", issue}}},
                  {"person", person},
                  {"minor", minor},
                  {"paper", paper.has_value()},
                  {"purpose", {{"id", purpose}}}};
      if (di == soci::i_ok) ctx["institution"]["director"] = PersonName(director);
      if (minor) {
        ctx["guardian"] = someone(subject.guardian);
        ctx["signer"] = ctx["guardian"];
        ctx["under14"] = age == Capacity::kRepresented;
        ctx["teen"] = age == Capacity::kWithConsent;
        std::string authority;
        soci::indicator ai = soci::i_null;
        *sql_ << "SELECT authority FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(authority, ai), soci::use(person_id);
        if (ai == soci::i_ok && !authority.empty()) ctx["authority"] = authority;
      } else {
        ctx["signer"] = person;
      }
      if (paper) ctx["paper_date"] = RussianDate(FormatDate(*paper));
      DocumentPeople people;
      people.Subject(person_id);
      if (minor) people.Mentioned(subject.guardian);
      if (di == soci::i_ok) people.Mentioned(director);
      std::string content;
      const std::string tmpl = ConsentTemplate(purpose);
      if (Status s = RenderDocumentTemplate(options_.templates_dir, tmpl, ctx, &content); !s.ok()) return s;
      // ConsentPreview: the text to be signed, and nothing written (it may
      // run inside a page's transaction, which commits its reads).
      if (check_only_) {
        if (preview_out_) *preview_out_ = content;
        return Status::Ok();
      }
      RecordDocumentPeople(id, people);
      DocumentStep step = AdvanceDocument(DocumentStatus::kIssued, DocumentEvent::kSign, !together);
      if (!step.status.ok()) return step.status;
      const std::string at = FormatInstant(now.instant), sha = Sha256Hex(content),
                        status(DocumentStatusName(step.to));
      const std::string sigs = SignaturesJson({{actor_id, person_id, sig_capacity, at, paper ? "" : channel_}});
      soci::indicator pdi = paper ? soci::i_ok : soci::i_null;
      *sql_ << "INSERT INTO consents (institution, person, issue, template, issued_at, status, signatures, content,"
               " sha256, paper_date, purpose) VALUES (" + I() + ", :p, :i, :t, :a, :s, :g, :c, :h, :d, :u)",
          soci::use(person_id), soci::use(issue), soci::use(tmpl), soci::use(at), soci::use(status), soci::use(sigs),
          soci::use(content), soci::use(sha), soci::use(paper_date, pdi), soci::use(purpose);
      if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "consent_signed",
                                         id + of_purpose + (paper      ? " (paper form of " + paper_date + ")"
                                               : together ? " (awaiting the other signature: the teenager's and their guardian's)"
                                                          : std::string()),
                                         now);
          !s.ok())
        return s;
      if (!together) {
        if (purpose == kDefaultPurpose) *sql_ << "UPDATE people SET consent = 1 WHERE institution = " + I() + " AND id = :id", soci::use(person_id);
        if (Status s = Cascade(OfPurpose(RunningInstancesNaming(person_id), purpose), "consent_renewed", now, &sent);
            !s.ok())
          return s;
      }
    } else {
      if (!in_force)
        return Status(Code::kRefused, "consent: " + person_id + " has no valid consent" + of_purpose + " to revoke",
                      "consent");
      std::string note = "given before consents were kept as documents";
      if (last > 0 && last_status == "signed") {
        auto from = ParseDocumentStatus(last_status);
        DocumentStep step = AdvanceDocument(*from, DocumentEvent::kRevoke);
        if (!step.status.ok()) return step.status;
        const std::string status(DocumentStatusName(step.to)), at = FormatInstant(now.instant);
        *sql_ << "UPDATE consents SET status = :s, revoked_at = :a, revoked_by = :b WHERE institution = " + I() + " AND person = :p AND issue = :i",
            soci::use(status), soci::use(at), soci::use(actor_id), soci::use(person_id), soci::use(last);
        note = "consent:" + person_id + ":" + std::to_string(last);
      }
      if (purpose == kDefaultPurpose) *sql_ << "UPDATE people SET consent = 0 WHERE institution = " + I() + " AND id = :id", soci::use(person_id);
      // Exactly the processing of this purpose stops: its running instances
      // naming the person take `consent_revoked`; the others go on.
      if (Status s = Cascade(OfPurpose(RunningInstancesNaming(person_id), purpose), "consent_revoked", now, &sent);
          !s.ok())
        return s;
      const std::vector<std::string> kept = PurposesInForce(person_id);
      std::string kept_for;
      for (const auto& k : kept) kept_for += (kept_for.empty() ? "" : ", ") + k;
      // With no consent left their data is no longer processed: no sessions.
      if (kept.empty()) *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND person = :p", soci::use(person_id);
      // 152-FZ art. 21 part 5: the data of this purpose is destroyed within
      // 30 days; what another purpose's consent covers is kept (the duty
      // says which), the rest with the person.
      InstanceRecord duty;
      Status started = StartDuty(person_id, "destruction", AddDuration(now.today, Duration{0, 0, 30}), now, &duty, "",
                                 purpose, kept_for);
      if (!started.ok() && started.code() != Code::kNotFound) return started;
      if (!kept_for.empty()) note = note + " (" + purpose + "); kept for: " + kept_for;
      else if (purpose != kDefaultPurpose) note += " (" + purpose + ")";
      if (started.ok()) note += "; destruction due " + FormatDate(AddDuration(now.today, Duration{0, 0, 30})) +
                                " (instance " + duty.id + ")";
      if (!sent.empty()) {
        std::string ids;
        for (const auto& i : sent) ids += (ids.empty() ? "" : ", ") + i;
        note += "; stopped: " + ids;
      }
      if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "consent_revoked", note, now); !s.ok())
        return s;
    }
    tx.Commit();
    return Status::Ok();
  });
}

WorkCalendar SociStore::LoadWorkCalendar() {
  WorkCalendar cal;
  soci::rowset<soci::row> rs = (sql_->prepare << "SELECT day, working FROM calendar WHERE institution = " + I());
  for (const auto& r : rs)
    if (auto d = ParseDate(r.get<std::string>(0))) cal.overrides[*d] = RowInt(r, 1) != 0;
  return cal;
}

Status SociStore::StartDuty(const std::string& person_id, const std::string& kind, Date due, const Now& now,
                            InstanceRecord* out, const std::string& request, const std::string& purpose,
                            const std::string& kept_for) {
  const int version = LatestVersion("personal_data");
  if (version == 0) return Status::NotFound("workflow 'personal_data' is not registered");
  SystemScope as_system(*this);
  Refusal refusal;
  Input input = {{"person", person_id}, {"kind", kind}, {"due", FormatDate(due)}};
  if (!request.empty()) input.push_back({"request", request});
  // A duty that follows a consent names its purpose, and what the person's
  // other consents still cover (where the workflow records them).
  Status st;
  const Definition* def = DefinitionFor("personal_data", version, &st);
  if (def && !purpose.empty() && def->FieldIndex("purpose") >= 0) input.push_back({"purpose", purpose});
  if (def && !kept_for.empty() && def->FieldIndex("kept_for") >= 0) input.push_back({"kept_for", kept_for});
  return Start("personal_data", input, "", "system", now, out, &refusal);
}

Status SociStore::RequestInformation(const std::string& person_id, const std::string& actor_id, const Now& now,
                                     InstanceRecord* out, const std::string& kind, const std::string& text) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    if (kind != "information" && kind != "correction" && kind != "erasure")
      return Status::BadInput("--kind: information, correction or erasure, got '" + kind + "'");
    if (kind != "information" && text.empty())
      return Status(Code::kBadInput, "a demand to correct or destroy data says what and why (--text)", "input").At("text");
    if (Status s = CheckText("--text", text, 2000, true); !s.ok()) return s;
    Tx tx(*this);
    ConsentSubject subject;
    if (!LoadSubject(person_id, &subject)) return Status::NotFound("no person '" + person_id + "'");
    const std::vector<std::string> allowed = SubjectActors(subject, now.today);
    std::string capacity;
    if (Status s = MayReadPersonalData(LoadActor(actor_id), allowed, {person_id},
                                       Status::NotFound("no person '" + person_id + "'"), &capacity);
        !s.ok())
      return s;
    // Information in 10 working days (art. 14 part 3), a correction or a
    // destruction demanded in 7 (art. 21 parts 1 and 3).
    const Date due = AddWorkingDays(now.today, kind == "information" ? 10 : 7, LoadWorkCalendar());
    InstanceRecord rec;
    if (Status s = StartDuty(person_id, kind, due, now, &rec, text); !s.ok()) return s;
    if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "request",
                                       kind + "; answer due " + FormatDate(due) + " (instance " + rec.id + ")", now);
        !s.ok())
      return s;
    tx.Commit();
    if (out) *out = rec;
    return Status::Ok();
  });
}

Status SociStore::MayChangeConsentNow(const std::string& person_id, bool given, const std::string& actor_id,
                                      const Now& now, std::string* capacity, const std::string& purpose) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    if (Status s = CheckPurpose(purpose); !s.ok()) return s;
    ConsentSubject subject;
    if (!LoadSubject(person_id, &subject)) return Status::NotFound("no person '" + person_id + "'");
    if (Status s = MayChangeConsent(subject, LoadActor(actor_id), given, now.today, capacity); !s.ok()) return s;
    const bool flag = ConsentInForce(person_id, purpose);
    if (given && flag) return Status(Code::kRefused, "consent: " + person_id + " has a valid consent", "consent");
    if (given && *capacity != "curator") {  // a teenager's consent signed by one of the two already
      std::string status, stored;
      LatestConsent(person_id, purpose, &status, &stored);
      if (status == "partly_signed")
        for (const auto& sig : ParseSignatures(stored))
          if (sig.person == actor_id)
            return Status(Code::kRefused, "consent: " + person_id + "'s consent bears this signature already", "consent");
    }
    if (!given && !flag)
      return Status(Code::kRefused, "consent: " + person_id + " has no valid consent to revoke", "consent");
    return Status::Ok();
  });
}

Status SociStore::PurposeAchieved(const Definition& def, const std::string& instance, const std::vector<Value>& fields,
                                  const Now& now) {
  std::vector<std::string> people;
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (def.fields[i].type == FieldType::kPerson && IsSet(fields[i])) {
      const std::string p = std::get<std::string>(fields[i]);
      if (std::find(people.begin(), people.end(), p) == people.end()) people.push_back(p);
    }
  for (const auto& person : people) {
    if (!ConsentInForce(person, def.purpose)) continue;
    if (!OfPurpose(RunningInstancesNaming(person), def.purpose).empty()) continue;  // still needed
    std::string note = "the purpose " + def.purpose + " is achieved (instance " + instance + " finished)";
    std::string status;
    if (const long long last = LatestConsent(person, def.purpose, &status); last > 0 && status == "signed") {
      DocumentStep step = AdvanceDocument(DocumentStatus::kSigned, DocumentEvent::kExpire);
      if (!step.status.ok()) return step.status;
      const std::string to(DocumentStatusName(step.to));
      *sql_ << "UPDATE consents SET status = :s WHERE institution = " + I() + " AND person = :p AND issue = :i", soci::use(to), soci::use(person),
          soci::use(last);
      note = "consent:" + person + ":" + std::to_string(last) + ": " + note;
    }
    if (def.purpose == kDefaultPurpose) *sql_ << "UPDATE people SET consent = 0 WHERE institution = " + I() + " AND id = :id", soci::use(person);
    std::string kept_for;
    for (const auto& k : PurposesInForce(person)) kept_for += (kept_for.empty() ? "" : ", ") + k;
    const Date due = AddDuration(now.today, Duration{0, 0, 30});
    InstanceRecord duty;
    Status started = StartDuty(person, "destruction", due, now, &duty, "", def.purpose, kept_for);
    if (!started.ok() && started.code() != Code::kNotFound) return started;
    if (started.ok()) note += "; destruction due " + FormatDate(due) + " (instance " + duty.id + ")";
    if (!kept_for.empty()) note += "; kept for: " + kept_for;
    if (Status s = AppendPersonHistory(person, "system", "system", "consent_expired", note, now); !s.ok()) return s;
  }
  return Status::Ok();
}

Status SociStore::CheckPurpose(const std::string& purpose) {
  const std::vector<std::string> known = KnownPurposes();
  if (std::find(known.begin(), known.end(), purpose) != known.end()) return Status::Ok();
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return Status::BadInput("no purpose '" + EscapeControls(purpose) + "' (the workflows declare: " + list + ")");
}

Status SociStore::ConsentsOf(const std::string& person_id, std::vector<PurposeConsent>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    ConsentSubject subject;
    if (!LoadSubject(person_id, &subject)) return Status::NotFound("no person '" + person_id + "'");
    out->clear();
    for (const auto& p : KnownPurposes()) {
      PurposeConsent c;
      c.purpose = p;
      c.in_force = ConsentInForce(person_id, p);
      c.issue = LatestConsent(person_id, p, &c.status);
      out->push_back(std::move(c));
    }
    return Status::Ok();
  });
}

Status SociStore::ConsentPreview(const std::string& person_id, const std::string& actor_id, const Now& now,
                                 std::string* xhtml, const std::string& purpose) {
  // SetConsent itself, stopped once the text is rendered: one rule, one text.
  struct Flag {
    SociStore& s;
    Flag(SociStore& store, std::string* out) : s(store) {
      s.check_only_ = true;
      s.preview_out_ = out;
    }
    ~Flag() {
      s.check_only_ = false;
      s.preview_out_ = nullptr;
    }
  } flag(*this, xhtml);
  return SetConsent(person_id, true, actor_id, now, "", purpose);
}

}  // namespace mentorflow::storage
