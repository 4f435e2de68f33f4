// People and their consent: register, change, read, export, the subject's
// request for information, erasure, consent given or revoked. The rules
// (who may, on which day, for whom) are the engine's and the store's.
#pragma once

#include <string>

#include "app/context.h"
#include "app/views.h"

namespace mentorflow::app {

Status AddPerson(Context& ctx, const PersonRecord& person);
Status UpdatePerson(Context& ctx, const PersonUpdate& update);
// The person, their guardian, a curator or the director; recorded.
Result<PersonRecord> ReadPerson(Context& ctx, const std::string& id);
// Everything stored about a person, as the JSON text Store::ExportPerson writes.
Result<std::string> ExportPerson(Context& ctx, const std::string& id);
// A subject's request about their data: `kind` information (the default),
// correction or erasure, with `text` saying what (required for the latter two).
Result<InstanceView> RequestInformation(Context& ctx, const std::string& id, const std::string& kind = "information",
                                        const std::string& text = "");
// The people of the institution the filter selects (Store::People): for a
// curator or the director, who read everyone's records; anyone else is
// refused as the read rule refuses them.
Result<std::vector<Store::PersonSummary>> ListPeople(Context& ctx, const Store::PeopleFilter& filter);
// The destruction act.
Result<DocumentRecord> ErasePerson(Context& ctx, const std::string& id);

struct ConsentRequest {
  std::string person;
  bool given = true;       // false: revoked
  std::string paper_date;  // a curator records a paper form: the date on it
  std::string purpose = kDefaultPurpose;  // what the data is processed for (a workflow's `purpose:`)
};
Status SetConsent(Context& ctx, const ConsentRequest& r);

// What the actor may do with `person`'s consent now (Store::MayChangeConsentNow):
// give it, and in which capacity ("self", "guardian", or "curator" from a
// paper form; "" when they may not), or revoke it.
struct ConsentChoices {
  std::string give;
  bool revoke = false;
  bool awaiting = false;  // a teenager's consent signed by one of the two, awaiting the other
  // What a consent they would sign here lacks (152-FZ art. 9 part 4): while
  // this is not empty, signing is refused (a paper form is not).
  std::vector<MissingParticular> missing;
};
Result<ConsentChoices> ConsentChoicesFor(Context& ctx, const std::string& person,
                                         const std::string& purpose = kDefaultPurpose);
// The text the actor would sign as `person`'s consent now (Store::ConsentPreview).
Result<std::string> ConsentPreview(Context& ctx, const std::string& person,
                                   const std::string& purpose = kDefaultPurpose);
// The person's consent purpose by purpose (Store::ConsentsOf), for whoever
// may read the person (ReadPerson's rule; anyone else: not found).
Result<std::vector<Store::PurposeConsent>> ConsentsOf(Context& ctx, const std::string& person);

}  // namespace mentorflow::app
