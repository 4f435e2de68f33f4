// The document lifecycle as a Boost.MSM machine, restored to a stored status
// through a Restore event from the `Loaded` pseudo-state, as the outbox's is.
// Kept in its own file: MSM is slow to compile.
#include "engine/document_lifecycle.h"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
// 21 rows: past mpl::vector's default limit of 20, so the numbered form.
#include <boost/mpl/vector/vector30.hpp>

namespace mentorflow {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

namespace ev {
template <DocumentStatus S>
struct Restore {};
struct Sign {
  bool last = false;
};
struct Revoke {};
struct Expire {};
struct Supersede {};
}  // namespace ev

struct DocumentDef_ : msm::front::state_machine_def<DocumentDef_> {
  bool refused = false;

  struct Loaded : msm::front::state<> {};
  struct Issued : msm::front::state<> {};
  struct PartlySigned : msm::front::state<> {};
  struct Signed : msm::front::state<> {};
  struct Revoked : msm::front::state<> {};
  struct Expired : msm::front::state<> {};
  struct Superseded : msm::front::state<> {};
  using initial_state = Loaded;

  struct Last {
    template <class E, class M, class S, class T>
    bool operator()(const E& e, M&, S&, T&) const {
      return e.last;
    }
  };
  struct NotLast {
    template <class E, class M, class S, class T>
    bool operator()(const E& e, M&, S&, T&) const {
      return !e.last;
    }
  };
  using S = DocumentStatus;

  // clang-format off
  struct transition_table : mpl::vector21<
    //   from          event                           to            action  guard
    Row< Loaded,       ev::Restore<S::kIssued>,        Issued,       none,   none    >,
    Row< Loaded,       ev::Restore<S::kPartlySigned>,  PartlySigned, none,   none    >,
    Row< Loaded,       ev::Restore<S::kSigned>,        Signed,       none,   none    >,
    Row< Loaded,       ev::Restore<S::kRevoked>,       Revoked,      none,   none    >,
    Row< Loaded,       ev::Restore<S::kExpired>,       Expired,      none,   none    >,
    Row< Loaded,       ev::Restore<S::kSuperseded>,    Superseded,   none,   none    >,

    Row< Issued,       ev::Sign,                       PartlySigned, none,   NotLast >,
    Row< Issued,       ev::Sign,                       Signed,       none,   Last    >,
    Row< PartlySigned, ev::Sign,                       PartlySigned, none,   NotLast >,
    Row< PartlySigned, ev::Sign,                       Signed,       none,   Last    >,
    Row< Issued,       ev::Revoke,                     Revoked,      none,   none    >,
    Row< PartlySigned, ev::Revoke,                     Revoked,      none,   none    >,
    Row< Signed,       ev::Revoke,                     Revoked,      none,   none    >,
    Row< Issued,       ev::Expire,                     Expired,      none,   none    >,
    Row< PartlySigned, ev::Expire,                     Expired,      none,   none    >,
    Row< Signed,       ev::Expire,                     Expired,      none,   none    >,
    Row< Issued,       ev::Supersede,                  Superseded,   none,   none    >,
    Row< PartlySigned, ev::Supersede,                  Superseded,   none,   none    >,
    Row< Signed,       ev::Supersede,                  Superseded,   none,   none    >,
    Row< Revoked,      ev::Supersede,                  Superseded,   none,   none    >,
    Row< Expired,      ev::Supersede,                  Superseded,   none,   none    >
  > {};
  // clang-format on

  template <class FSM, class Event>
  void no_transition(const Event&, FSM&, int) {
    refused = true;
  }
};

using Machine = msm::back::state_machine<DocumentDef_>;

template <class State>
int IdOf() {
  return msm::back::get_state_id<Machine::stt, State>::value;
}

DocumentStatus StatusOf(int id) {
  using D = DocumentDef_;
  if (id == IdOf<D::Issued>()) return DocumentStatus::kIssued;
  if (id == IdOf<D::PartlySigned>()) return DocumentStatus::kPartlySigned;
  if (id == IdOf<D::Signed>()) return DocumentStatus::kSigned;
  if (id == IdOf<D::Revoked>()) return DocumentStatus::kRevoked;
  if (id == IdOf<D::Expired>()) return DocumentStatus::kExpired;
  return DocumentStatus::kSuperseded;
}

void Restore(Machine& m, DocumentStatus s) {
  using S = DocumentStatus;
  switch (s) {
    case S::kIssued: m.process_event(ev::Restore<S::kIssued>{}); break;
    case S::kPartlySigned: m.process_event(ev::Restore<S::kPartlySigned>{}); break;
    case S::kSigned: m.process_event(ev::Restore<S::kSigned>{}); break;
    case S::kRevoked: m.process_event(ev::Restore<S::kRevoked>{}); break;
    case S::kExpired: m.process_event(ev::Restore<S::kExpired>{}); break;
    case S::kSuperseded: m.process_event(ev::Restore<S::kSuperseded>{}); break;
  }
}

constexpr const char* kNames[] = {"issued", "partly_signed", "signed", "revoked", "expired", "superseded"};

// Why an event does not apply, in words a signer can act on.
std::string Why(DocumentStatus from, DocumentEvent event) {
  using S = DocumentStatus;
  if (event == DocumentEvent::kSign) {
    switch (from) {
      case S::kSigned: return "it is signed already by everyone who signs it";
      case S::kRevoked: return "it was revoked";
      case S::kExpired: return "its time to be signed ran out";
      case S::kSuperseded: return "it was superseded by a re-issue; sign the latest issue";
      default: break;
    }
  }
  return std::string("a document that is ") + kNames[static_cast<int>(from)] + " cannot be " +
         (event == DocumentEvent::kRevoke   ? "revoked"
          : event == DocumentEvent::kExpire ? "expired"
          : event == DocumentEvent::kSign   ? "signed"
                                            : "superseded");
}

}  // namespace

std::string_view DocumentStatusName(DocumentStatus s) { return kNames[static_cast<int>(s)]; }

std::optional<DocumentStatus> ParseDocumentStatus(std::string_view s) {
  for (int i = 0; i < 6; ++i)
    if (s == kNames[i]) return static_cast<DocumentStatus>(i);
  return std::nullopt;
}

DocumentStep AdvanceDocument(DocumentStatus from, DocumentEvent event, bool last_signature) {
  Machine m;
  m.start();
  Restore(m, from);
  switch (event) {
    case DocumentEvent::kSign: m.process_event(ev::Sign{last_signature}); break;
    case DocumentEvent::kRevoke: m.process_event(ev::Revoke{}); break;
    case DocumentEvent::kExpire: m.process_event(ev::Expire{}); break;
    case DocumentEvent::kSupersede: m.process_event(ev::Supersede{}); break;
  }
  DocumentStep step;
  if (m.refused) {
    step.to = from;
    step.status = Status(Code::kRefused, "document: " + Why(from, event), "document");
    return step;
  }
  step.to = StatusOf(m.current_state()[0]);
  return step;
}

}  // namespace mentorflow
