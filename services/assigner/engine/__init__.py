"""The distribution engine: the rules of push, pure (no I/O, no clock, no gRPC).

Live push (services/assigner/push.py) feeds it what the services say now;
what-if (services/assigner/whatif/) feeds it the account's history on a
replay clock. Both ask the same modules, so a rule, a reason code or a
tie-break exists once:

- reasons: every code the journal, the API and what-if use;
- arrival: which new leads push takes, and whose limits apply to them;
- attempt: one try to place a lead now (template, duty, limits, rotation);
- rotation: who of the seats gets the lead (weighted, round robin, ...);
- lifecycle: how a lead in push moves (waiting, assigned, done);
- timers: the tick's rounds, the queue, SLA reassignment, shift handover;
- press: whether the button gives a manager a lead.
"""
