#include "bench/msm_pair.h"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace mentorflow::bench {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

// Event types carry distinct names (see DESIGN.md: no clash with POSIX).
namespace ev {
struct Submit {};
struct Ready {};
struct Approve {};
struct ProposeChange {};
struct MentorAgrees {};
struct MenteeAgrees {};
struct ApplyChange {};
struct RequestReplacement {};
struct KeepMentor {};
struct TerminateMutual {};
}  // namespace ev

struct Facts {
  bool agreement_signed = true;
  bool consents = true;
  bool order_signed = true;
  bool mentor_agreed = false;
  bool mentee_agreed = false;
  int taken = 0;
};

struct PairDef : msm::front::state_machine_def<PairDef> {
  explicit PairDef(Facts* f = nullptr) : facts(f) {}
  Facts* facts;

  struct Proposed : msm::front::state<> {};
  struct Documents : msm::front::state<> {};
  struct Approval : msm::front::state<> {};
  struct Active : msm::front::state<> {};
  struct ChangeProposed : msm::front::state<> {};
  struct ReplacementReview : msm::front::state<> {};
  struct Terminated : msm::front::state<> {};
  using initial_state = Proposed;

  struct DocumentsReady {
    template <class E, class M, class S, class T>
    bool operator()(const E&, M& m, S&, T&) const { return m.facts->agreement_signed && m.facts->consents; }
  };
  struct OrderSigned {
    template <class E, class M, class S, class T>
    bool operator()(const E&, M& m, S&, T&) const { return m.facts->order_signed; }
  };
  struct BothAgreed {
    template <class E, class M, class S, class T>
    bool operator()(const E&, M& m, S&, T&) const { return m.facts->mentor_agreed && m.facts->mentee_agreed; }
  };
  struct Count {
    template <class E, class M, class S, class T>
    void operator()(const E&, M& m, S&, T&) const { ++m.facts->taken; }
  };
  struct SetMentorAgreed {
    template <class E, class M, class S, class T>
    void operator()(const E&, M& m, S&, T&) const { m.facts->mentor_agreed = true; ++m.facts->taken; }
  };
  struct SetMenteeAgreed {
    template <class E, class M, class S, class T>
    void operator()(const E&, M& m, S&, T&) const { m.facts->mentee_agreed = true; ++m.facts->taken; }
  };

  // clang-format off
  struct transition_table : mpl::vector<
    //   from               event                    to                 action           guard
    Row< Proposed,          ev::Submit,              Documents,         Count,           none           >,
    Row< Documents,         ev::Ready,               Approval,          Count,           DocumentsReady >,
    Row< Approval,          ev::Approve,             Active,            Count,           OrderSigned    >,
    Row< Active,            ev::ProposeChange,       ChangeProposed,    Count,           none           >,
    Row< ChangeProposed,    ev::MentorAgrees,        none,              SetMentorAgreed, none           >,
    Row< ChangeProposed,    ev::MenteeAgrees,        none,              SetMenteeAgreed, none           >,
    Row< ChangeProposed,    ev::ApplyChange,         Active,            Count,           BothAgreed     >,
    Row< Active,            ev::RequestReplacement,  ReplacementReview, Count,           none           >,
    Row< ReplacementReview, ev::KeepMentor,          Active,            Count,           none           >,
    Row< Active,            ev::TerminateMutual,     Terminated,        Count,           none           >
  > {};
  // clang-format on

  template <class FSM, class Event>
  void no_transition(const Event&, FSM&, int) {}
};

using Pair = msm::back::state_machine<PairDef>;

}  // namespace

struct MsmPair::Impl {
  Facts facts;
  Pair machine{&facts};
};

MsmPair::MsmPair() : impl_(std::make_unique<Impl>()) {}
MsmPair::~MsmPair() = default;

int MsmPair::RunLifecycle() {
  impl_->facts = Facts{};
  Pair& m = impl_->machine;
  m.stop();
  m.start();
  m.process_event(ev::Submit{});
  m.process_event(ev::Ready{});
  m.process_event(ev::Approve{});
  m.process_event(ev::ProposeChange{});
  m.process_event(ev::MentorAgrees{});
  m.process_event(ev::MenteeAgrees{});
  m.process_event(ev::ApplyChange{});
  m.process_event(ev::RequestReplacement{});
  m.process_event(ev::KeepMentor{});
  m.process_event(ev::TerminateMutual{});
  return impl_->facts.taken;
}

int MsmPair::state() const { return impl_->machine.current_state()[0]; }

}  // namespace mentorflow::bench
