// Instances: start, send an event, show, list, history. Every read passes
// the store's read rule (Store::AuthorizeRead) and is recorded in the
// history of the people it shows; something the actor may not read is
// answered exactly like something that does not exist.
#pragma once

#include <string>
#include <vector>

#include "app/context.h"
#include "app/views.h"

namespace mentorflow::app {

struct StartRequest {
  std::string workflow;
  Input input;         // field -> text, parsed by the field's type
  std::string parent;  // empty: none
};
// A refusal of the workflow carries its rule in Status::rule().
Result<InstanceView> StartInstance(Context& ctx, const StartRequest& r);

struct SendRequest {
  std::string instance, event;
  Input input;
};
// Retried once when the instance changed meanwhile (a concurrent writer).
// An instance the actor may not read answers NotFound, as an unknown id.
Result<InstanceView> SendEvent(Context& ctx, const SendRequest& r);

Result<InstanceView> ShowInstance(Context& ctx, const std::string& id);

struct ListRequest {
  std::string workflow, state;  // empty: any
};
// The instances the actor may read (the operator, with no actor: all), oldest
// first, with the people each names; each listed instance is a recorded read.
Result<std::vector<InstanceView>> ListInstances(Context& ctx, const ListRequest& r);

Result<HistoryView> InstanceHistory(Context& ctx, const std::string& id);

// NotFound when the actor may not read `instance` (or it does not exist):
// before a change, so that one learns nothing of what is not theirs.
Status MayTouch(Context& ctx, const std::string& instance);

// The view of a record as stored: titles from its workflow version, names of
// the people its person fields name. For use cases that have read it.
InstanceView ViewOf(Context& ctx, const InstanceRecord& rec);

}  // namespace mentorflow::app
