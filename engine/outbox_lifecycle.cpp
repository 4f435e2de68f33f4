// The reminder lifecycle as a Boost.MSM machine. A stored reminder is
// brought back to its status through a Restore event from the `Loaded`
// pseudo-state, then the real event is processed; what the machine ends in
// is the answer. Kept in its own file: MSM is slow to compile.
#include "engine/outbox_lifecycle.h"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
// 24 rows: more than mpl::vector's default limit of 20.
#include <boost/mpl/vector/vector30.hpp>

#include <algorithm>

namespace mentorflow {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

// Event type names that cannot clash with POSIX or std (see DESIGN.md).
namespace ev {
template <ReminderStatus S>
struct Restore {};
struct Due {};
struct Delivered {};
struct Fail {
  DeliveryFacts facts;
};
struct Retry {};
struct Ack {};
struct Cancel {};
}  // namespace ev

struct OutboxDef : msm::front::state_machine_def<OutboxDef> {
  bool refused = false;

  struct Loaded : msm::front::state<> {};
  struct Scheduled : msm::front::state<> {};
  struct Pending : msm::front::state<> {};
  struct Sent : msm::front::state<> {};
  struct Acknowledged : msm::front::state<> {};
  struct Failed : msm::front::state<> {};
  struct Retried : msm::front::state<> {};
  struct Dead : msm::front::state<> {};
  struct Cancelled : msm::front::state<> {};
  using initial_state = Loaded;

  struct TriesLeft {
    template <class E, class M, class S, class T>
    bool operator()(const E& e, M&, S&, T&) const {
      return !e.facts.permanent && e.facts.tries < e.facts.max_tries;
    }
  };
  struct NoTriesLeft {
    template <class E, class M, class S, class T>
    bool operator()(const E& e, M&, S&, T&) const {
      return e.facts.permanent || e.facts.tries >= e.facts.max_tries;
    }
  };
  using S = ReminderStatus;

  // clang-format off
  struct transition_table : mpl::vector24<
    //   from          event                           to            action  guard
    Row< Loaded,       ev::Restore<S::kScheduled>,     Scheduled,    none,   none        >,
    Row< Loaded,       ev::Restore<S::kPending>,       Pending,      none,   none        >,
    Row< Loaded,       ev::Restore<S::kSent>,          Sent,         none,   none        >,
    Row< Loaded,       ev::Restore<S::kAcknowledged>,  Acknowledged, none,   none        >,
    Row< Loaded,       ev::Restore<S::kFailed>,        Failed,       none,   none        >,
    Row< Loaded,       ev::Restore<S::kRetried>,       Retried,      none,   none        >,
    Row< Loaded,       ev::Restore<S::kDead>,          Dead,         none,   none        >,
    Row< Loaded,       ev::Restore<S::kCancelled>,     Cancelled,    none,   none        >,

    Row< Scheduled,    ev::Due,                        Pending,      none,   none        >,
    Row< Scheduled,    ev::Cancel,                     Cancelled,    none,   none        >,
    Row< Pending,      ev::Delivered,                  Sent,         none,   none        >,
    Row< Pending,      ev::Fail,                       Failed,       none,   TriesLeft   >,
    Row< Pending,      ev::Fail,                       Dead,         none,   NoTriesLeft >,
    Row< Pending,      ev::Ack,                        Acknowledged, none,   none        >,
    Row< Pending,      ev::Cancel,                     Cancelled,    none,   none        >,
    Row< Failed,       ev::Retry,                      Retried,      none,   none        >,
    Row< Failed,       ev::Ack,                        Acknowledged, none,   none        >,
    Row< Failed,       ev::Cancel,                     Cancelled,    none,   none        >,
    Row< Retried,      ev::Delivered,                  Sent,         none,   none        >,
    Row< Retried,      ev::Fail,                       Failed,       none,   TriesLeft   >,
    Row< Retried,      ev::Fail,                       Dead,         none,   NoTriesLeft >,
    Row< Retried,      ev::Cancel,                     Cancelled,    none,   none        >,
    Row< Sent,         ev::Ack,                        Acknowledged, none,   none        >,
    Row< Dead,         ev::Ack,                        Acknowledged, none,   none        >
  > {};
  // clang-format on

  template <class FSM, class Event>
  void no_transition(const Event&, FSM&, int) {
    refused = true;
  }
};

using Outbox = msm::back::state_machine<OutboxDef>;

// The MSM state id of each status: states are numbered in the order they
// first appear in the table's "from" then "to" columns.
template <class State>
int IdOf() {
  return msm::back::get_state_id<Outbox::stt, State>::value;
}

ReminderStatus StatusOf(int id) {
  using D = OutboxDef;
  if (id == IdOf<D::Scheduled>()) return ReminderStatus::kScheduled;
  if (id == IdOf<D::Pending>()) return ReminderStatus::kPending;
  if (id == IdOf<D::Sent>()) return ReminderStatus::kSent;
  if (id == IdOf<D::Acknowledged>()) return ReminderStatus::kAcknowledged;
  if (id == IdOf<D::Failed>()) return ReminderStatus::kFailed;
  if (id == IdOf<D::Retried>()) return ReminderStatus::kRetried;
  if (id == IdOf<D::Dead>()) return ReminderStatus::kDead;
  return ReminderStatus::kCancelled;
}

void Restore(Outbox& m, ReminderStatus s) {
  using S = ReminderStatus;
  switch (s) {
    case S::kScheduled: m.process_event(ev::Restore<S::kScheduled>{}); break;
    case S::kPending: m.process_event(ev::Restore<S::kPending>{}); break;
    case S::kSent: m.process_event(ev::Restore<S::kSent>{}); break;
    case S::kAcknowledged: m.process_event(ev::Restore<S::kAcknowledged>{}); break;
    case S::kFailed: m.process_event(ev::Restore<S::kFailed>{}); break;
    case S::kRetried: m.process_event(ev::Restore<S::kRetried>{}); break;
    case S::kDead: m.process_event(ev::Restore<S::kDead>{}); break;
    case S::kCancelled: m.process_event(ev::Restore<S::kCancelled>{}); break;
  }
}

constexpr const char* kNames[] = {"scheduled", "pending", "sent", "acknowledged", "failed", "retried", "dead", "cancelled"};

}  // namespace

std::string_view ReminderStatusName(ReminderStatus s) { return kNames[static_cast<int>(s)]; }

std::optional<ReminderStatus> ParseReminderStatus(std::string_view s) {
  for (int i = 0; i < 8; ++i)
    if (s == kNames[i]) return static_cast<ReminderStatus>(i);
  return std::nullopt;
}

std::string_view ReminderEventName(ReminderEvent e) {
  switch (e) {
    case ReminderEvent::kDue: return "due";
    case ReminderEvent::kDelivered: return "delivered";
    case ReminderEvent::kFail: return "fail";
    case ReminderEvent::kRetry: return "retry";
    case ReminderEvent::kAck: return "ack";
    case ReminderEvent::kCancel: return "cancel";
  }
  return "?";
}

LifecycleStep Advance(ReminderStatus from, ReminderEvent event, const DeliveryFacts& facts) {
  Outbox m;
  m.start();
  Restore(m, from);
  switch (event) {
    case ReminderEvent::kDue: m.process_event(ev::Due{}); break;
    case ReminderEvent::kDelivered: m.process_event(ev::Delivered{}); break;
    case ReminderEvent::kFail: m.process_event(ev::Fail{facts}); break;
    case ReminderEvent::kRetry: m.process_event(ev::Retry{}); break;
    case ReminderEvent::kAck: m.process_event(ev::Ack{}); break;
    case ReminderEvent::kCancel: m.process_event(ev::Cancel{}); break;
  }
  LifecycleStep step;
  if (m.refused) {
    step.to = from;
    step.status = Status(Code::kRefused,
                         std::string("outbox: a reminder that is ") + std::string(ReminderStatusName(from)) +
                             " cannot take '" + std::string(ReminderEventName(event)) + "'",
                         "outbox");
    return step;
  }
  step.to = StatusOf(m.current_state()[0]);
  return step;
}

Instant NextAttempt(Instant failed_at, int tries, int base_seconds) {
  long long delay = base_seconds;
  for (int i = 1; i < tries && delay < 86400; ++i) delay *= 2;
  delay = std::min<long long>(delay, 86400);
  return failed_at + std::chrono::seconds{delay};
}

}  // namespace mentorflow
