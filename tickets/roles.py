"""Which roles may take each ticket action; registered with the permission layer in TicketsConfig.ready()."""

from command_center.org.models import Role

CENTER = (Role.DISPATCHER, Role.DUTY_CHIEF)

ACTIONS: dict[str, tuple[str, ...]] = {
    "tickets.create": (Role.GRIDWORKER, Role.HOTLINE_AGENT, Role.DISPATCHER, Role.DUTY_CHIEF, Role.LEADER),
    "tickets.open": CENTER,
    "tickets.cancel": CENTER,
    "tickets.dispatch": CENTER,
    "tickets.sign": (Role.DEPARTMENT_STAFF,),
    "tickets.reply": (Role.DEPARTMENT_STAFF,),
    "tickets.request": (Role.DEPARTMENT_STAFF, *CENTER),
    "tickets.approve": CENTER,
    "tickets.approve_extension": (Role.DUTY_CHIEF,),
    "tickets.verify": (Role.GRIDWORKER, *CENTER),
    "tickets.self_resolve": (Role.GRIDWORKER,),
    "tickets.merge": (*CENTER, Role.HOTLINE_AGENT),
    "tickets.resume": CENTER,
    "tickets.reopen": (*CENTER, Role.HOTLINE_AGENT),
    "tickets.urge": (*CENTER, Role.LEADER),
    "tickets.escalate": CENTER,
    "tickets.add_caller": (Role.HOTLINE_AGENT, *CENTER),
    "tickets.see_contact": (Role.DISPATCHER, Role.DUTY_CHIEF, Role.HOTLINE_AGENT),
}
