"""The ground truth itself, held to a ticket worked out by hand from docs/metrics.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from pipelines.fakes.zendesk.metrics import metric_events
from pipelines.world import World, WorldConfig
from pipelines.world.model import SYSTEM_USER_ID, Audit, Event, Rating, Schedule, SlaPolicy, SlaTarget, Ticket
from pipelines.world.truth import percentile_cont, truth, truth_of

CUSTOMER, ASSIGNEE, COLLEAGUE = 2000, 1001, 1002
AGENTS = frozenset({ASSIGNEE, COLLEAGUE})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def audit(n: int, when: datetime, author: int, *events: Event) -> Audit:
    return audit_of(7, n, when, author, *events)


def audit_of(ticket_id: int, n: int, when: datetime, author: int, *events: Event) -> Audit:
    return Audit(n, ticket_id, when, author, "web", events)


def change(n: int, field: str, value, previous=None) -> Event:
    return Event(n, "Change", field, None if value is None else str(value),
                 None if previous is None else str(previous))


def comment(n: int, author: int, public: bool = True) -> Event:
    return Event(n, "Comment", author_id=author, public=public)


HAND_TICKET = Ticket(
    id=7,
    created_at=at(2, 9),
    channel="web",
    audits=(
        audit(1, at(2, 9), CUSTOMER, Event(10, "Create", "status", "new"),
              Event(11, "Create", "assignee_id", None), comment(12, CUSTOMER)),
        audit(2, at(2, 9, 10), SYSTEM_USER_ID, change(20, "assignee_id", ASSIGNEE),
              change(21, "status", "open", "new")),
        audit(3, at(2, 9, 20), ASSIGNEE, comment(30, ASSIGNEE, public=False)),  # internal note
        audit(4, at(2, 9, 45), COLLEAGUE, comment(40, COLLEAGUE),  # reply by a non-assignee
              change(41, "status", "pending", "open")),
        audit(5, at(2, 10, 30), CUSTOMER, comment(50, CUSTOMER), change(51, "status", "open", "pending")),
        audit(6, at(2, 11), ASSIGNEE, change(60, "status", "solved", "open")),
        audit(7, at(3, 8), CUSTOMER, comment(70, CUSTOMER), change(71, "status", "open", "solved")),
        audit(8, at(3, 9), SYSTEM_USER_ID, change(80, "assignee_id", COLLEAGUE, ASSIGNEE)),
        audit(9, at(3, 9, 30), COLLEAGUE, comment(90, COLLEAGUE), change(91, "status", "solved", "open")),
    ),
    ratings=(
        Rating(100, 7, "offered", at(3, 10, 30), COLLEAGUE, None, CUSTOMER),
        Rating(101, 7, "good", at(3, 12), COLLEAGUE, None, CUSTOMER),
        Rating(102, 7, "bad", at(4, 9), COLLEAGUE, None, CUSTOMER),
    ),
)


def test_ticket_metrics_by_hand():
    facts = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS).tickets[7]
    assert facts.first_reply_minutes == 45  # 09:00 customer → 09:45 colleague; the note does not count
    assert facts.first_reply_agent_id == COLLEAGUE
    assert facts.agent_replies == 2
    assert facts.reopens == 1
    assert facts.first_resolution_minutes == 120
    assert facts.full_resolution_minutes == 24 * 60 + 30
    assert not facts.is_one_touch
    assert facts.csat_score == "bad"  # the latest good-or-bad rating


def test_agent_days_by_hand():
    days = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS).agent_days
    assignee_day1 = days[(ASSIGNEE, date(2026, 3, 2))]
    assert assignee_day1.tickets_solved == {7} and assignee_day1.reopened_after_solve == 1
    assert assignee_day1.public_replies == 0 and assignee_day1.first_replies == 0
    colleague_day1 = days[(COLLEAGUE, date(2026, 3, 2))]
    assert colleague_day1.first_reply_minutes == [45] and colleague_day1.public_replies == 1
    assert not colleague_day1.tickets_solved
    colleague_day2 = days[(COLLEAGUE, date(2026, 3, 3))]
    assert colleague_day2.tickets_solved == {7} and colleague_day2.reopened_after_solve == 0
    assert (colleague_day2.csat_good, colleague_day2.csat_bad) == (1, 0)
    assert days[(COLLEAGUE, date(2026, 3, 4))].csat_pct == 0.0


def test_as_of_before_the_reopen_and_tenant_days_in_local_time():
    result = truth_of([HAND_TICKET], at(2, 12), "Asia/Tokyo", AGENTS)
    facts = result.tickets[7]
    assert facts.status == "solved" and facts.reopens == 0 and facts.final_solved_at == at(2, 11)
    # 11:00 UTC is 20:00 in Tokyo, the same date; 09:45 UTC is 18:45 there
    assert result.agent_days[(ASSIGNEE, date(2026, 3, 2))].tickets_solved == {7}
    late = truth_of([HAND_TICKET], at(10, 0), "Pacific/Kiritimati", AGENTS)  # UTC+14
    assert late.agent_days[(ASSIGNEE, date(2026, 3, 3))].tickets_solved == {7}


def test_percentile_cont_interpolates_like_sql():
    assert percentile_cont([10, 20, 30, 40], 0.5) == 25
    assert percentile_cont([10, 20, 30, 40], 0.9) == 37
    assert percentile_cont([5], 0.9) == 5
    assert percentile_cont([], 0.5) is None


def test_agent_weeks_and_teams_recount_from_the_ticket():
    result = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS)
    week = date(2026, 3, 2)  # a Monday: the 2nd and 3rd are in the same week
    assignee, colleague = result.agent_weeks[(ASSIGNEE, week)], result.agent_weeks[(COLLEAGUE, week)]
    assert assignee.tickets_solved == {7} and assignee.reopened_after_solve == 1
    assert colleague.tickets_solved == {7} and colleague.reopened_after_solve == 0
    assert colleague.public_replies == 2 and colleague.first_reply_minutes == [45]
    assert (colleague.csat_good, colleague.csat_bad) == (1, 1)
    assert result.team_weeks == {}  # the ticket has no group: no team row


def test_backlog_by_day_end_status():
    result = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS)
    day2, day3 = result.backlog[date(2026, 3, 2)], result.backlog[date(2026, 3, 3)]
    assert (day2.backlog_open, day2.created, day2.solved, day2.reopened) == (0, 1, 1, 0)
    assert (day3.backlog_open, day3.created, day3.solved, day3.reopened) == (0, 0, 1, 1)
    before_the_solve = truth_of([HAND_TICKET], at(2, 10), "UTC", AGENTS).backlog
    assert before_the_solve[date(2026, 3, 2)].backlog_open == 1  # pending counts as open


def test_work_spans_and_assignees():
    result = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS)
    assert result.assignees == {ASSIGNEE, COLLEAGUE}
    assert result.work_spans[COLLEAGUE] == (at(2, 9, 45), at(4, 9))  # first reply .. last rating
    # assigned at 09:10 on the 2nd .. the ticket taken from them at 09:00 on the 3rd
    assert result.work_spans[ASSIGNEE] == (at(2, 9, 10), at(3, 9))


def test_handling_and_solve_figures_by_hand():
    """HAND_TICKET day by day. The assignee is assigned it by a rule on the 2nd, writes a note and
    solves it two hours after creation (their updates: the note's audit and the solve's), and a
    rule hands it to the colleague on the 3rd (a reassignment away from the assignee, an
    assignment for the colleague). The colleague updates it on both days (reply, reply and
    solve). Each solve is of a ticket first solved within a day, with two agent replies."""
    days = truth_of([HAND_TICKET], at(10, 0), "UTC", AGENTS).agent_days
    figures = {key: (len(c.tickets_assigned), len(c.tickets_touched), c.internal_notes, c.reassignments_away,
                     len(c.tickets_solved), c.solved_within_a_day, c.replies_per_solved_ticket)
               for key, c in days.items()}
    monday, tuesday = at(2, 0).date(), at(3, 0).date()
    assert figures == {
        (ASSIGNEE, monday): (1, 1, 1, 0, 1, 1, 2.0),
        (ASSIGNEE, tuesday): (0, 0, 0, 1, 0, 0, None),
        (COLLEAGUE, monday): (0, 1, 0, 0, 0, 0, None),
        (COLLEAGUE, tuesday): (1, 1, 0, 0, 1, 1, 2.0),
        (COLLEAGUE, at(4, 0).date()): (0, 0, 0, 0, 0, 0, None),  # the bad rating's day
    }



def assigned_ticket(ticket_id: int, created: datetime, *steps: tuple[datetime, int, str]) -> Ticket:
    """A customer's ticket in group 50, given to the assignee ten minutes after it is created;
    each step is one audit: at that time, that author writes in public and sets that status."""
    n = ticket_id * 100
    audits = [
        Audit(n, ticket_id, created, CUSTOMER, "web", (
            Event(n + 1, "Create", "status", "new"), Event(n + 2, "Create", "group_id", "50"),
            comment(n + 3, CUSTOMER))),
        Audit(n + 10, ticket_id, created + timedelta(minutes=10), SYSTEM_USER_ID, "web", (
            change(n + 11, "assignee_id", ASSIGNEE), change(n + 12, "status", "open", "new"))),
    ]
    status = "open"
    for step, (when, author, new_status) in enumerate(steps, start=2):
        events = (comment(n + step * 10 + 1, author), change(n + step * 10 + 2, "status", new_status, status))
        audits.append(Audit(n + step * 10, ticket_id, when, author, "web", events))
        status = new_status
    return Ticket(id=ticket_id, created_at=created, channel="web", audits=tuple(audits))


def test_reopened_after_solve_counts_from_the_first_solve_of_the_day_week_and_team():
    # Monday the 2nd: the assignee solves ticket 8, the customer reopens it, the assignee solves it
    # again; nothing after. The day's first solve did not hold: reopened, although its last held.
    same_day = assigned_ticket(8, at(2, 9), (at(2, 9, 30), ASSIGNEE, "solved"),
                               (at(2, 10), CUSTOMER, "open"), (at(2, 10, 30), ASSIGNEE, "solved"))
    # Ticket 9: the assignee solves it on Monday, the customer reopens it on Tuesday, the colleague
    # (now the assignee) solves it on Wednesday. Each agent's week counts its own solve; the team's
    # week counts from its first solve, Monday's, which was reopened.
    across_days = assigned_ticket(9, at(2, 9), (at(2, 11), ASSIGNEE, "solved"), (at(3, 8), CUSTOMER, "open"))
    across_days = replace(across_days, audits=(
        *across_days.audits,
        audit_of(9, 990, at(4, 9), SYSTEM_USER_ID, change(991, "assignee_id", COLLEAGUE, ASSIGNEE)),
        audit_of(9, 992, at(4, 9, 30), COLLEAGUE, comment(993, COLLEAGUE),
                 change(994, "status", "solved", "open"))))
    result = truth_of([same_day, across_days], at(10, 0), "UTC", AGENTS)
    monday, wednesday = date(2026, 3, 2), date(2026, 3, 4)
    cells = {
        "assignee's Monday": result.agent_days[(ASSIGNEE, monday)],
        "colleague's Wednesday": result.agent_days[(COLLEAGUE, wednesday)],
        "assignee's week": result.agent_weeks[(ASSIGNEE, monday)],
        "colleague's week": result.agent_weeks[(COLLEAGUE, monday)],
        "team's week": result.team_weeks[(50, monday)],
    }
    figures = {name: (sorted(cell.tickets_solved), cell.reopened_after_solve) for name, cell in cells.items()}
    assert figures == {
        "assignee's Monday": ([8, 9], 2),
        "colleague's Wednesday": ([9], 0),
        "assignee's week": ([8, 9], 2),
        "colleague's week": ([9], 0),
        "team's week": ([8, 9], 2),
    }


# A conversation on Monday 2 March, in group 50, assigned to the assignee from the start.
CONVERSATION = Ticket(
    id=12,
    created_at=at(2, 9),
    channel="web",
    audits=(
        audit_of(12, 1201, at(2, 9), CUSTOMER, Event(1202, "Create", "status", "new"),
                 Event(1203, "Create", "group_id", "50"), Event(1204, "Create", "assignee_id", str(ASSIGNEE)),
                 comment(1205, CUSTOMER)),
        audit_of(12, 1210, at(2, 9, 30), ASSIGNEE, comment(1211, ASSIGNEE),
                 change(1212, "status", "open", "new")),
        audit_of(12, 1220, at(2, 10), CUSTOMER, comment(1221, CUSTOMER)),
        audit_of(12, 1230, at(2, 10, 10), CUSTOMER, comment(1231, CUSTOMER)),
        audit_of(12, 1240, at(2, 10, 40), ASSIGNEE, comment(1241, ASSIGNEE),
                 change(1242, "status", "pending", "open")),
        audit_of(12, 1250, at(2, 10, 45), SYSTEM_USER_ID, comment(1251, SYSTEM_USER_ID)),  # a trigger's
        audit_of(12, 1260, at(2, 10, 50), ASSIGNEE, comment(1261, ASSIGNEE)),
        audit_of(12, 1270, at(2, 11), CUSTOMER, comment(1271, CUSTOMER),
                 change(1272, "status", "open", "pending")),
        audit_of(12, 1280, at(2, 11, 2), SYSTEM_USER_ID, change(1281, "group_id", 60, 50)),
        audit_of(12, 1290, at(2, 11, 5), COLLEAGUE, comment(1291, COLLEAGUE),
                 change(1292, "status", "hold", "open")),
        audit_of(12, 1300, at(2, 11, 20), ASSIGNEE, change(1301, "status", "open", "hold")),
        audit_of(12, 1310, at(2, 12), ASSIGNEE, change(1311, "status", "solved", "open")),
    ),
)


def test_next_replies_and_status_times_by_hand():
    """CONVERSATION: the customer writes at 09:00, the assignee's 09:30 reply is the first (30
    minutes). The customer writes at 10:00 and 10:10; the assignee's 10:40 reply is a next reply of
    40 minutes, from the earliest, 10:00. The 10:50 reply answers nothing the customer wrote since
    10:40 (the 10:45 message is a trigger's): not a next reply. The customer writes at 11:00; the
    colleague's 11:05 reply, in group 60 since 11:02, is a next reply of 5 minutes.
    Statuses: new 09:00, open 09:30, pending 10:40, open 11:00, hold 11:05, open 11:20, solved 12:00.
    Requester wait (new, open, hold): 30 + 70 + 5 + 15 + 40 = 160 minutes; agent work (new, open):
    30 + 70 + 5 + 40 = 145; the full resolution adds the 20 pending: 180.
    Ticket 13, also the assignee's in group 50: created 09:00, open 09:10, the assignee's reply
    and solve at 09:30 (the first reply), the customer reopens at 10:00, the assignee replies at
    10:20 and sets it pending: a next reply of 20 minutes, and no final solve, so no wait or work
    time; the cells that solved it count no wait or work time for it. As of 09:45 it was solved:
    wait and work 10 (new) + 20 (open) = 30 minutes."""
    reopened = assigned_ticket(13, at(2, 9), (at(2, 9, 30), ASSIGNEE, "solved"),
                               (at(2, 10), CUSTOMER, "open"), (at(2, 10, 20), ASSIGNEE, "pending"))
    result = truth_of([CONVERSATION, reopened], at(10, 0), "UTC", AGENTS)
    conversation, unsolved = result.tickets[12], result.tickets[13]
    assert (conversation.first_reply_minutes, conversation.first_reply_agent_id) == (30, ASSIGNEE)
    assert (conversation.requester_wait_minutes, conversation.agent_work_minutes) == (160, 145)
    assert conversation.full_resolution_minutes == 180
    assert (unsolved.status, unsolved.requester_wait_minutes, unsolved.agent_work_minutes) == (
        "pending", None, None)
    monday = date(2026, 3, 2)
    figures = {key: (sorted(c.next_reply_minutes), c.next_replies, c.median_next_reply_minutes,
                     c.p90_next_reply_minutes, sorted(c.tickets_solved), c.requester_wait_minutes,
                     c.median_requester_wait_minutes, c.agent_work_minutes, c.median_agent_work_minutes)
               for key, c in {**result.agent_days, **result.team_weeks}.items()}
    assert figures == {
        # next replies 20 and 40: median 30, p90 20 + 0.9 × 20 = 38; both tickets solved, one finally
        (ASSIGNEE, monday): ([20, 40], 2, 30, 38, [12, 13], [160], 160, [145], 145),
        (COLLEAGUE, monday): ([5], 1, 5, 5, [], [], None, [], None),
        (50, monday): ([20, 40], 2, 30, 38, [13], [], None, [], None),  # ticket 13's solve only
        (60, monday): ([5], 1, 5, 5, [12], [160], 160, [145], 145),  # the colleague's reply, the solve
    }
    assert result.agent_weeks[(ASSIGNEE, monday)].next_reply_minutes == [40, 20]  # a Monday: the same
    before = truth_of([reopened], at(2, 9, 45), "UTC", AGENTS).tickets[13]
    assert (before.status, before.requester_wait_minutes, before.agent_work_minutes) == ("solved", 30, 30)


def test_dimensions_are_the_tickets_own_as_of_the_instant():
    """Channel, brand and tags are the ticket's; priority, type and group are the values its
    audits set by the instant, the last change winning."""
    n = 1100
    ticket = replace(
        assigned_ticket(11, at(2, 9)), channel="email", brand_id=2, tags=("billing", "vip"))
    ticket = replace(ticket, audits=(
        replace(ticket.audits[0], events=(*ticket.audits[0].events, Event(n, "Create", "priority", "high"),
                                          Event(n + 1, "Create", "type", "incident"))),
        *ticket.audits[1:],
        audit_of(11, n + 2, at(3, 9), ASSIGNEE, change(n + 3, "priority", "urgent", "high"),
                 change(n + 4, "group_id", 60, 50))))
    facts = truth_of([ticket], at(10, 0), "UTC", AGENTS).tickets[11]
    assert (facts.channel, facts.priority, facts.ticket_type, facts.brand_id, facts.tags, facts.group_id) == (
        "email", "urgent", "incident", 2, ("billing", "vip"), 60)
    before = truth_of([ticket], at(2, 12), "UTC", AGENTS).tickets[11]
    assert (before.priority, before.group_id) == ("high", 50)


def test_brand_and_group_names_come_from_the_worlds_lists():
    world = World(WorldConfig(tickets=40, days=10))
    result = truth(world)
    brands = {brand.id: brand.name for brand in world.brands()}
    assert result.group_names == {group.id: group.name for group in world.groups()}
    assert {t.brand_id for t in result.tickets.values()} == set(brands)  # both brands have tickets
    assert all(t.brand_name == brands[t.brand_id] for t in result.tickets.values())


WEEKDAYS_9_TO_5 = Schedule(1, "Office", "UTC", "UTC",
                           tuple((day * 1440 + 540, day * 1440 + 1020) for day in range(1, 6)), (),
                           at(1, 0))


SLA_GROUP = 50


def sla_ticket(ticket_id: int, created: datetime, priority: str, *later: Audit) -> Ticket:
    first = audit_of(ticket_id, ticket_id * 100, created, CUSTOMER,
                     Event(ticket_id * 1000, "Create", "status", "new"),
                     Event(ticket_id * 1000 + 1, "Create", "priority", priority),
                     Event(ticket_id * 1000 + 2, "Create", "assignee_id", None),
                     Event(ticket_id * 1000 + 4, "Create", "group_id", SLA_GROUP),
                     comment(ticket_id * 1000 + 3, CUSTOMER))
    return Ticket(id=ticket_id, created_at=created, channel="web", audits=(first, *later))


def weekend_case() -> tuple[Ticket, SlaPolicy]:
    """A high-priority ticket from Friday 16:30 to its solve on Monday 10:00, business-hours targets."""
    policy = SlaPolicy(801, "Urgent and high", 1, (SlaTarget("high", "first_reply_time", 60, True),
                                                   SlaTarget("high", "requester_wait_time", 120, True)),
                       at(1, 0))
    ticket = sla_ticket(20, at(6, 16, 30), "high",
                        audit_of(20, 2001, at(6, 16, 40), SYSTEM_USER_ID, change(1, "assignee_id", ASSIGNEE),
                                 change(2, "status", "open", "new")),
                        audit_of(20, 2002, at(9, 9, 10), SYSTEM_USER_ID,
                                 change(3, "assignee_id", COLLEAGUE, ASSIGNEE)),
                        audit_of(20, 2003, at(9, 9, 40), COLLEAGUE, comment(4, COLLEAGUE)),
                        audit_of(20, 2004, at(9, 10), COLLEAGUE, change(5, "status", "solved", "open")))
    return ticket, policy


def paused_case() -> tuple[Ticket, SlaPolicy]:
    """A normal-priority ticket pending from 09:10 to 11:10 on Monday 2 March, calendar targets."""
    policy = SlaPolicy(802, "Normal and low", 2, (SlaTarget("normal", "first_reply_time", 30, False),
                                                  SlaTarget("normal", "requester_wait_time", 60, False)),
                       at(1, 0))
    ticket = sla_ticket(21, at(2, 9), "normal",
                        audit_of(21, 2101, at(2, 9, 10), ASSIGNEE, comment(1, ASSIGNEE),
                                 change(2, "status", "pending", "new")),
                        audit_of(21, 2102, at(2, 11, 10), CUSTOMER, comment(3, CUSTOMER),
                                 change(4, "status", "open", "pending")),
                        audit_of(21, 2103, at(2, 12), ASSIGNEE, change(5, "status", "solved", "open")))
    return ticket, policy


def test_business_hours_sla_runs_across_the_weekend():
    """Hand-worked, on weekdays 09:00-17:00 UTC: created Friday 6 March 16:30, assigned at 16:40,
    reassigned Monday 09:10, first reply Monday 09:40, solved 10:00. The 60 business minutes of
    the first-reply target are 30 on Friday and 30 on Monday: breached at Monday 09:30 (not
    Friday 17:30), against the Monday assignee, 70 business minutes at the reply (10 over). The
    wait's 120 minutes are not used up by the solve (30 + 60): achieved, 30 under."""
    ticket, policy = weekend_case()
    slas = truth_of([ticket], at(10, 0), "UTC", AGENTS, WEEKDAYS_9_TO_5, [policy]).slas
    reply, wait = slas[(20, "first_reply_time")], slas[(20, "requester_wait_time")]
    assert (reply.status, reply.breach_at, reply.fulfilled_at) == ("breached", at(9, 9, 30), at(9, 9, 40))
    assert (reply.minutes_over_target, reply.accountable_agent_id) == (10, COLLEAGUE)
    assert (reply.policy_id, reply.target_minutes, reply.business_hours) == (801, 60, True)
    assert (wait.status, wait.breach_at, wait.fulfilled_at) == ("achieved", None, at(9, 10))
    assert (wait.minutes_over_target, wait.accountable_agent_id) == (-30, COLLEAGUE)


def test_paused_sla_clock_and_a_fulfilment_at_the_breach_time():
    """Hand-worked, calendar minutes: created Monday 2 March 09:00 (normal priority), replied at
    09:10 and set pending, the customer answers at 11:10, solved at 12:00. The first reply is 10
    minutes (20 under its 30). The wait's 60 minutes pause while pending (09:10-11:10): 10 before,
    50 after, used up exactly at the 12:00 solve, which achieves it (0 over); without the pause it
    would have breached at 10:00. Judged at 11:30 the wait has run 30 minutes: active."""
    ticket, policy = paused_case()
    slas = truth_of([ticket], at(3, 0), "UTC", AGENTS, WEEKDAYS_9_TO_5, [policy]).slas
    reply, wait = slas[(21, "first_reply_time")], slas[(21, "requester_wait_time")]
    assert (reply.status, reply.fulfilled_at, reply.minutes_over_target) == ("achieved", at(2, 9, 10), -20)
    assert (wait.status, wait.breach_at, wait.fulfilled_at, wait.minutes_over_target) == (
        "achieved", None, at(2, 12), 0)
    during = truth_of([ticket], at(2, 11, 30), "UTC", AGENTS, WEEKDAYS_9_TO_5, [policy]).slas
    assert (during[(21, "requester_wait_time")].status, during[(21, "requester_wait_time")].fulfilled_at) == (
        "active", None)
    late = replace(ticket, audits=(*ticket.audits[:-1], replace(ticket.audits[-1], at=at(2, 12, 5))))
    # solved five minutes later: breached at 12:00, unassigned then, so against nobody
    slas = truth_of([late], at(3, 0), "UTC", AGENTS, WEEKDAYS_9_TO_5, [policy]).slas
    wait = slas[(21, "requester_wait_time")]
    assert (wait.status, wait.breach_at, wait.minutes_over_target, wait.accountable_agent_id) == (
        "breached", at(2, 12), 5, None)


def test_sla_attainment_counts_each_instance_for_who_held_the_ticket_at_its_outcome():
    """The weekend case: the first reply breached at Monday 09:30 and the wait achieved at the
    Monday 10:00 solve both count for the colleague, who has held the ticket since 09:10 (not the
    Friday assignee), and for the ticket's group, on Monday 9 March and its week. The paused
    case is unassigned throughout: it counts for its group only."""
    weekend, weekend_policy = weekend_case()
    paused, paused_policy = paused_case()
    result = truth_of([weekend, paused], at(10, 0), "UTC", AGENTS, WEEKDAYS_9_TO_5,
                      [weekend_policy, paused_policy])
    monday, paused_monday = date(2026, 3, 9), date(2026, 3, 2)
    reply, wait = "first_reply_time", "requester_wait_time"
    assert result.sla_agent_days == {(COLLEAGUE, monday, reply): (0, 1), (COLLEAGUE, monday, wait): (1, 0)}
    assert result.sla_agent_weeks == result.sla_agent_days  # both on a Monday
    assert result.sla_team_weeks == {(SLA_GROUP, monday, reply): (0, 1), (SLA_GROUP, monday, wait): (1, 0),
                                     (SLA_GROUP, paused_monday, reply): (1, 0),
                                     (SLA_GROUP, paused_monday, wait): (1, 0)}


def test_the_fakes_metric_events_agree_with_the_truth():
    """Zendesk's events as the fake API serves them break and fulfil the hand-worked targets where
    the truth says: breach events exactly for the breached instances, at their breach time."""
    for (ticket, policy), as_of in ((weekend_case(), at(10, 0)), (paused_case(), at(3, 0)),
                                    (paused_case(), at(2, 11, 30))):
        events = metric_events(ticket, [policy], AGENTS, as_of, WEEKDAYS_9_TO_5)
        names = {"reply_time": "first_reply_time", "requester_wait_time": "requester_wait_time"}
        breaches = {(ticket.id, names[e.metric]): e.at for e in events if e.type == "breach"}
        slas = truth_of([ticket], as_of, "UTC", AGENTS, WEEKDAYS_9_TO_5, [policy]).slas
        assert breaches == {k: s.breach_at for k, s in slas.items() if s.status == "breached"}
        fulfilled = {(ticket.id, names[e.metric]): e.at for e in events if e.type == "fulfill"
                     and e.metric in names}
        assert fulfilled == {k: s.fulfilled_at for k, s in slas.items() if s.fulfilled_at}
