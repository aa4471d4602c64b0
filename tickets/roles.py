"""Which roles may take each ticket action; registered with the permission layer in TicketsConfig.ready()."""

from org.models import Role

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
    # category suggestions from the complaint's text (智能分类): everyone who chooses or checks a category
    "tickets.suggest_category": (Role.GRIDWORKER, Role.HOTLINE_AGENT, *CENTER, Role.DEPARTMENT_STAFF),
    # read a ticket's page in the console (the center works it there; a leader follows it from the statistics)
    "tickets.read": (*CENTER, Role.LEADER),
    "tickets.see_contact": (Role.DISPATCHER, Role.DUTY_CHIEF, Role.HOTLINE_AGENT),
}
