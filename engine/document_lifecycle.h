// The fixed lifecycle of an issued document, the same in every institution,
// so compiled (a Boost.MSM machine in document_lifecycle.cpp):
//
//   issued --sign (not the last signer)--> partly_signed --sign (the last)--> signed
//   issued --sign (the only or last signer)--> signed
//   issued/partly_signed/signed --revoke--> revoked        (a consent taken back)
//   issued/partly_signed --expire--> expired               (its time to be signed ran out)
//   signed --expire--> expired                             (a consent whose purpose is achieved)
//   any but superseded --supersede--> superseded           (a re-issue replaces it)
//
// Every other (status, event) pair is refused with the reason a person can
// act on (already signed, superseded by a re-issue, revoked, expired). Pure:
// storage loads the row's status, asks AdvanceDocument(), writes the answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace mentorflow {

enum class DocumentStatus { kIssued, kPartlySigned, kSigned, kRevoked, kExpired, kSuperseded };
enum class DocumentEvent { kSign, kRevoke, kExpire, kSupersede };

std::string_view DocumentStatusName(DocumentStatus s);
std::optional<DocumentStatus> ParseDocumentStatus(std::string_view s);

struct DocumentStep {
  Status status;  // refused (rule "document") when the event does not apply
  DocumentStatus to = DocumentStatus::kIssued;
};

// `last_signature`: with kSign, whether this signature fills the last place.
DocumentStep AdvanceDocument(DocumentStatus from, DocumentEvent event, bool last_signature = false);

}  // namespace mentorflow
