// What a person may do now, for the pages: the events they may send on an
// instance, each with the form of its input (made from the field
// definitions), the form that starts an instance, and «Мои задачи», which
// gathers the documents awaiting their signature, the consents they should
// give, the events open to them and the deadlines of the next 14 days.
// Whether an event or a signature is open is the store's dispatch
// (Store::Offers, Store::MaySignNow), never decided here.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "app/context.h"
#include "app/views.h"

namespace mentorflow::app {

// One input of a form, from its field definition.
struct InputView {
  std::string name, title;
  // string, int, bool, date, datetime, enum, person, or item (the id of a
  // list's record, for an event that changes one)
  std::string type;
  bool required = false;
  std::string min, max;  // int bounds, when declared
  // enum: value and title; person: id and name; item: id and title. A
  // person input without options is typed as an id (the actor may not list
  // people).
  std::vector<std::pair<std::string, std::string>> options;
  std::string value;  // what the form starts with (a default)
};

struct EventView {
  std::string event, title;
  std::vector<InputView> inputs;
  bool adds = false;  // it adds a record to a list (a plan's item): a form people use often
};

// The events the actor may send now on `instance`, in the workflow's order;
// NotFound as for ShowInstance.
Result<std::vector<EventView>> Offers(Context& ctx, const std::string& instance);

struct StartForm {
  std::string workflow, title;
  std::vector<InputView> inputs;
  // Instances it may be started under (id, what people read), when the
  // workflow takes fields from a parent or asks for one in `start_when`.
  std::vector<std::pair<std::string, std::string>> parents;
};
// The form that starts `workflow`: its required fields, its people and the
// fields with a default; NotFound for an unknown workflow. With `parent`
// (an instance the actor may read), the fields it shares by name are filled
// in from it, and it is offered first.
Result<StartForm> StartFormOf(Context& ctx, const std::string& workflow, const std::string& parent = "");

// The workflows an instance of `def` counts as its children in its
// conditions ({children: W}): what may be started under it.
std::vector<std::string> ChildWorkflows(const Definition& def);

struct ConsentTask {
  std::string person, name;
  bool ward = false;  // given by the actor as guardian
};

struct InstanceTasks {
  InstanceView instance;
  std::vector<EventView> events;
};

struct TaskList {
  std::vector<DocumentRecord> to_sign;  // the actor may sign each now
  std::vector<ConsentTask> consents;    // not given (or revoked), for the actor or a ward
  std::vector<InstanceTasks> instances;  // running instances with events open to the actor
  std::vector<DeadlineRecord> deadlines;  // the actor's, today and the next 14 days
};
Result<TaskList> Tasks(Context& ctx);

}  // namespace mentorflow::app
