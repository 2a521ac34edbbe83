"""The generated account: users, departments, pipelines, leads with contacts and
companies, tasks, and the requests waiting in Unsorted."""

from __future__ import annotations

import random

from services.crm.amocrm.emulator.base import (
    LOST,
    UNSORTED,
    WON,
    Pipeline,
    Status,
    Task,
    User,
)
from services.crm.amocrm.emulator.unsorted import UnsortedApi

DAY = 86400


class Seeding(UnsortedApi):
    def seed(self, rng: random.Random, count: int) -> None:
        self.groups = {0: "Sales department", 1: "Second line"}
        for user in (
            User(5001, "Head", "head@example.com", 0, is_admin=True),
            User(5002, "Ursula", "ursula@example.com"),
            User(5003, "Nadezhda", "nadezhda@example.com"),
            User(5004, "Marina", "marina@example.com"),
            User(5005, "Pavel", "pavel@example.com"),
            User(5006, "Olga", "olga@example.com", 1),
            User(self.exchange_user, "Lead exchange", "exchange@example.com"),
            User(5008, "Former employee", "former@example.com", is_active=False),
        ):
            self.users[user.id] = user
        self.pipelines = {
            7001: Pipeline(
                7001,
                "Sales",
                1,
                [
                    Status(70010, "Incoming", 10, 7001, type=UNSORTED),
                    Status(70011, "New", 20, 7001),
                    Status(70012, "Taken", 30, 7001),
                    Status(70013, "Meeting", 40, 7001),
                    Status(WON, "Won", 10000, 7001),
                    Status(LOST, "Lost", 11000, 7001),
                ],
                is_main=True,
            ),
            7002: Pipeline(
                7002,
                "Partners",
                2,
                [
                    Status(70020, "Incoming", 10, 7002, type=UNSORTED),
                    Status(70021, "New", 20, 7002),
                    Status(70022, "In work", 30, 7002),
                    Status(WON, "Won", 10000, 7002),
                    Status(LOST, "Lost", 11000, 7002),
                ],
            ),
            7003: Pipeline(
                7003,
                "Old campaign",
                3,
                [
                    Status(70031, "New", 20, 7003),
                    Status(WON, "Won", 10000, 7003),
                    Status(LOST, "Lost", 11000, 7003),
                ],
                is_archive=True,
            ),
        }
        self.loss_reasons = {9001: "Too expensive", 9002: "Chose a competitor"}
        managers = [5002, 5003, 5004, 5005, 5006]
        now = self.now()
        # (pipeline, status, owned by the exchange?) with their shares of leads
        shapes = [
            ((7001, 70011, True), 40),
            ((7001, 70010, True), 8),
            ((7001, 70012, False), 17),
            ((7001, 70013, False), 10),
            ((7001, WON, False), 10),
            ((7001, LOST, False), 7),
            ((7002, 70021, False), 5),
            ((7002, 70022, False), 3),
        ]
        choices = [shape for shape, weight in shapes for _ in range(weight)]
        stamps = sorted(now - rng.randint(3600, 60 * DAY) for _ in range(count))
        for n, created in enumerate(stamps, start=1):
            pipeline, status, pooled = rng.choice(choices)
            owner = self.exchange_user if pooled else rng.choice(managers)
            tags = rng.sample(["site", "call", "partner", "repeat"], rng.randint(0, 2))
            lead = self.new_lead(
                f"Lead #{n}",
                pipeline,
                status,
                owner,
                rng.choice([0, 5000, 12000, 30000, 75000]),
                tags,
                created,
                self.integration_user,
            )
            if status in (WON, LOST):
                lead.closed_at = min(now, created + rng.randint(3600, 20 * DAY))
                lead.updated_at = lead.closed_at
                if status == LOST:
                    lead.loss_reason_id = rng.choice(list(self.loss_reasons))
            contact = self.new_party(self.contacts, f"Client {n}", owner)
            contact.created_at = contact.updated_at = created
            lead.contacts.append(contact.id)
            if rng.random() < 0.2:
                company = self.new_party(self.companies, f"Company {n}", owner)
                company.created_at = company.updated_at = created
                lead.companies.append(company.id)
            if status == 70010:
                self.file_unsorted(lead)
            if not pooled and rng.random() < 0.6:
                task = Task(
                    id=self.new_id("task"),
                    responsible_user_id=owner,
                    entity_id=lead.id,
                    entity_type="leads",
                    complete_till=now + rng.randint(-5 * DAY, 5 * DAY),
                    text=rng.choice(["Call back", "Send the offer", "Meeting"]),
                    created_at=created,
                    updated_at=created,
                    created_by=self.integration_user,
                    is_completed=status in (WON, LOST) or rng.random() < 0.3,
                )
                self.tasks[task.id] = task

    def seed_tasks(
        self,
        count: int,
        *,
        open_share: float = 0.1,
        recent_share: float = 0.05,
        recent_days: int = 30,
        seed: int = 11,
    ) -> None:
        """Adds `count` tasks on worked leads, as a big account has: most completed
        long ago, `open_share` still to do, `recent_share` completed lately."""
        rng = random.Random(seed)
        now = self.now()
        worked = [
            x
            for x in self.leads.values()
            if x.responsible_user_id != self.exchange_user
        ]
        for _ in range(count):
            lead = rng.choice(worked)
            roll = rng.random()
            done = roll >= open_share
            if done and roll < open_share + recent_share:
                changed = now - rng.randint(0, recent_days * DAY - 3600)
            elif done:
                changed = now - rng.randint((recent_days + 2) * DAY, 3 * 365 * DAY)
            else:
                changed = now - rng.randint(0, 30 * DAY)
            task = Task(
                id=self.new_id("task"),
                responsible_user_id=lead.responsible_user_id,
                entity_id=lead.id,
                entity_type="leads",
                complete_till=changed + rng.randint(-2 * DAY, 2 * DAY),
                text="Call back",
                created_at=changed - DAY,
                updated_at=changed,
                created_by=self.integration_user,
                is_completed=done,
            )
            self.tasks[task.id] = task
