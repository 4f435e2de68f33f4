// The pure rules that storage used to decide for itself: who may sign a
// document and in which capacity, whether it is now fully signed, who may
// give or revoke a consent, who receives a reminder, when a deadline fires.
//
// Like dispatch, nothing here does I/O or reads a clock. Storage loads the
// inputs inside its transaction, calls these, and applies the answer; the
// tests call them with a small fake World.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/model.h"
#include "engine/particulars.h"
#include "engine/status.h"

namespace mentorflow {

// ---- recipients -----------------------------------------------------------

// The people `notify` names on an instance, each once, in the order named:
// a person field gives its person (if set); a role bound to a person field
// gives the people those fields hold; any other role gives every holder of
// it in the institution (World::PeopleWithRole).
std::vector<std::string> Recipients(const Definition& def, const std::vector<Value>& fields,
                                    const std::vector<std::string>& notify, const World& world);

// Who a reminder goes to: the people Recipients() gives, each followed — when
// they are under 18 on `today` and have a registered guardian — by that
// guardian, who receives it for them (`ward`). A minor's acts are their
// guardian's (see FindTransition), so what is due from them is told to the
// guardian too. Each person once: a guardian named in their own right is
// not repeated as someone's.
struct Recipient {
  std::string id;
  std::string ward;  // the minor this person receives it for, or ""
};
std::vector<Recipient> ReminderRecipients(const Definition& def, const std::vector<Value>& fields,
                                          const std::vector<std::string>& notify, const World& world, Date today);

// ---- signatures -----------------------------------------------------------

// A person as the consent and signature rules see them.
struct ConsentSubject {
  std::string id;
  std::optional<Date> birth;
  std::string guardian;  // person id, or empty
  bool consent_revoked = false;  // their consent was revoked and not renewed: processing is suspended
};

// One signature on an issued document: who, in the place of which signer
// entry of the document (`as`: a role or a person field), in which capacity.
struct Signature {
  std::string person;
  std::string as;
  std::string capacity;  // "self" or the role they sign as ("director")
  std::string at;        // ISO 8601 instant
  // How the signer was known: "account" (serve: their session, and their
  // password entered again to sign) or "console" (the operator's --as);
  // "" for signatures kept before it was recorded.
  std::string via;
};

// The capacities a person field's place is signed in (CapacityOn decides):
// of age, "self"; under 14, their registered guardian in their place
// ("guardian of ID"; the child's own signature is refused, rule "minor");
// from 14 to 17, the teenager ("self, with the guardian's consent") and
// their guardian beside them ("co-signing guardian of ID"), both needed.
inline const std::string kSelf = "self";
inline const std::string kSelfWithConsent = "self, with the guardian's consent";
inline const std::string kGuardianOf = "guardian of ";
inline const std::string kCosigningGuardianOf = "co-signing guardian of ";

// Where `actor` may sign `doc`: the first signer entry they fill that has no
// signature in their capacity yet (see the capacities above).
// `people` gives the birth date and guardian of the persons the signer
// fields name. Refused (rule "signer") when they fill none, and (rule
// "signed") when every entry they fill is signed already.
struct SignRuling {
  Status status;
  std::string as;
  std::string capacity;
};
// A finished instance (its `state` final) takes no more signatures, nor does
// one that names someone in `people` whose consent is revoked (rule
// "consent": processing is suspended until it is renewed).
SignRuling MaySign(const Definition& def, const DocumentDef& doc, int state, const std::vector<Value>& fields,
                   const Actor& actor, const std::vector<Signature>& existing,
                   const std::map<std::string, ConsentSubject>& people, Date today);

// Whether every signer entry of `doc` is filled by `signatures`: a person
// field by its person of age, or their guardian in place of a child under
// 14, or a teenager's signature and their guardian's co-signature together;
// a role by a signature given as that role.
bool FullySigned(const Definition& def, const DocumentDef& doc, const std::vector<Value>& fields,
                 const std::vector<Signature>& signatures);

// ---- consent --------------------------------------------------------------


// Whether `actor` may give (or revoke) the consent of `subject` on `today`,
// and in which capacity ("self", "guardian", "curator"). An adult gives
// their own; a child under 14's is given by their guardian; a teenager of
// 14 to 17 signs it and so does their guardian (the store keeps it
// unsigned until both have: CapacityOn); a curator records a paper form.
// A minor's consent needs a registered guardian; whoever may give it may
// revoke it. Consent is not given for someone whose birth date is unknown:
// whether they are a minor decides who signs.
// Refusals name the rule ("consent" or "role") and say who may.
Status MayChangeConsent(const ConsentSubject& subject, const Actor& actor, bool given, Date today,
                        std::string* capacity);

bool IsMinor(const std::optional<Date>& birth, Date today);

// Who acts for `subject` on `today` in what concerns their personal data —
// giving or revoking consent, reading their record or a document they sign,
// exporting it: under 14 their guardian alone (none if none is registered);
// from 14 to 17 they and their guardian; once of age, or when their birth
// date is unknown, they themselves. The same age rule MaySign applies.
std::vector<std::string> SubjectActors(const ConsentSubject& subject, Date today);

// What art. 9 part 4 wants stated that is not recorded, in the order a
// consent states it: the operator, the subject, and — when a representative
// acts for a minor — the representative and their authority. A paper form
// carries them on paper and is not checked.
std::vector<MissingParticular> MissingFromConsent(const std::string& operator_name,
                                                  const std::string& operator_address, const Particulars& subject,
                                                  const Particulars* representative, const std::string& authority);
// The refusal to sign a consent electronically while MissingFromConsent is
// not empty (exit 3, rule "particulars"): it names each thing and how to record it.
Status ConsentLacks(const std::string& subject, const std::vector<MissingParticular>& missing);

// ---- people ---------------------------------------------------------------

// Whether `actor` may register people and change their roles or data: a
// curator or a director (the first director is created by `init`).
Status MayManagePeople(const Actor& actor);

// Whether `actor` may change person `target` (who holds `target_roles`):
// add or remove `add_roles` / `remove_roles`, or change their data
// (`changes_data`: name, birth date, e-mail, guardian, attributes). On top
// of MayManagePeople: nobody changes their own roles; only a director
// grants or removes the director and curator roles (the offices that issue
// and sign orders), and only a director changes a director. Refusals name
// the rule "role".
Status MayChangePerson(const Actor& actor, const std::string& target, const std::vector<std::string>& target_roles,
                       const std::vector<std::string>& add_roles, const std::vector<std::string>& remove_roles,
                       bool changes_data);

// Whether `guardian` may be registered as the guardian of `ward` on `today`:
// they hold the guardian role (`guardian_roles`), are not the ward, are not
// a minor (a birth date under 18 years; unknown is let through), and the
// ward is not among the people they are in the care of (`guardian_chain`:
// their guardian, that one's guardian, ...), so links never form a cycle.
// Refusals name the rule "guardian".
Status MayBeGuardian(const std::string& ward, const ConsentSubject& guardian,
                     const std::vector<std::string>& guardian_roles, const std::vector<std::string>& guardian_chain,
                     Date today);

// Who may read personal data — a person's record, an instance, or a
// document that names people: a curator, the director, and otherwise only
// someone in `allowed` (the person themself or their guardian; a
// document's signers and their guardians). Someone the data is about
// (`about`) who may not read it (a minor, whose guardian reads) is refused
// with the reason; anyone else gets `unknown`, the very answer an unknown
// id gets, so that a refused read reveals nothing about what exists.
// `*capacity` says in which capacity the read happened.
Status MayReadPersonalData(const Actor& actor, const std::vector<std::string>& allowed,
                           const std::vector<std::string>& about, const Status& unknown, std::string* capacity);

// ---- time -----------------------------------------------------------------

// A deadline due on `due` is overdue from the start of the next day.
inline bool IsOverdue(Date due, Date today) { return due < today; }

// The moment an overdue deadline fires: the start of the day after `due`
// in the institution's zone. A tick that jumps ahead dates each firing so.
Now FiringMoment(Date due, const std::string& zone);

// ---- counting ---------------------------------------------------------------

// Whether the fields match {count: {where: {F: V}}}: each named field's
// printed value equals V (an unset field prints as "", so never equals a V).
bool MatchesWhere(const Definition& def, const std::vector<Value>& fields,
                  const std::vector<std::pair<std::string, std::string>>& where);

}  // namespace mentorflow
