// What a written consent states of a person besides their name (152-FZ
// art. 9 part 4): the records a store keeps and the rules check.
#pragma once

#include <string>

namespace mentorflow {

// The address and the main identity document — its number,
// the date it was issued and by whom. Of a representative also the
// document of their authority, which the ward's record keeps.
struct IdDocument {
  std::string kind;    // as the person names it: a passport, a birth certificate
  std::string number;  // series and number
  std::string issued;  // YYYY-MM-DD
  std::string issuer;
  bool Complete() const { return !kind.empty() && !number.empty() && !issued.empty() && !issuer.empty(); }
  bool Empty() const { return kind.empty() && number.empty() && issued.empty() && issuer.empty(); }
};
struct Particulars {
  std::string id;  // the person
  std::string address;
  IdDocument document;
};
// One thing a consent signed here would lack: `person` (empty for the
// operator) and `what`: "operator_name", "operator_address", "address",
// "document", or "authority" (the representative's, kept on the ward).
struct MissingParticular {
  std::string person;
  std::string what;
};
}  // namespace mentorflow
