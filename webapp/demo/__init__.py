"""Demo data for `wikibridge serve --demo`: queues, a volunteer and real-shaped mail.

Seeding is idempotent: queues and the volunteer are created when missing, and the sample mail
goes through the normal ingest, which stores the same bytes only once. The follow-ups cite the
number their first message was given, so they are the same bytes on every run too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy.orm import Session, sessionmaker

from wikibridge import access
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import Volunteer
from wikibridge.store import queues, volunteers

# No wiki account has a negative central id, so the demo volunteer never collides with one.
DEMO_CENTRAL_ID = -1
DEMO_USERNAME = "Demo Volunteer"


@dataclass(frozen=True)
class DemoQueue:
    name: str
    kind: str
    address: str = ""
    display_name: str = ""
    signature: str = ""


QUEUES = (
    DemoQueue(
        "info-en",
        "info",
        "info-en@example.org",
        "Wikipedia information team",
        "Yours sincerely,\n{agent}\nWikipedia information team",
    ),
    DemoQueue("info-en::Wikipedia", "info", signature="Yours sincerely,\n{agent}\nWikipedia"),
    DemoQueue(
        "permissions-commons",
        "permissions",
        "permissions-commons@example.org",
        "Wikimedia Commons permissions",
        "Kind regards,\n{agent}\nWikimedia Commons volunteer response team",
    ),
    DemoQueue(
        "press",
        "press",
        "press@example.org",
        "Wikipedia press contact",
        "Best regards,\n{agent}\nWikipedia press volunteers",
    ),
)
# (file, queue given by the delivery or "" for routing, file whose ticket it follows up).
MESSAGES = (
    ("complaint.eml", "info-en::Wikipedia", ""),
    ("permission.eml", "", ""),
    ("press.eml", "", ""),
    ("follow-up.eml", "", "complaint.eml"),
    ("stranger.eml", "", "permission.eml"),
)


@dataclass
class SeedResult:
    volunteer_id: int
    tickets: dict[str, str] = field(default_factory=dict)  # file -> ticket number
    stored: int = 0


def sample(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def seed(settings: Settings, session_factory: sessionmaker[Session]) -> SeedResult:
    with session_factory() as session, session.begin():
        volunteer_id = _seed_queues_and_volunteer(session)
    result = SeedResult(volunteer_id)
    ingestor = Ingestor(settings, session_factory)
    for name, queue, follows in MESSAGES:
        raw = sample(name)
        if follows:
            raw = raw.replace(b"{ticket}", result.tickets[follows].encode())
        outcome = ingestor.ingest(raw, source="demo", queue=queue)
        result.tickets[name] = outcome.ticket_number
        result.stored += outcome.status == "stored"
    return result


def _seed_queues_and_volunteer(session: Session) -> int:
    volunteer = volunteers.by_central_id(session, DEMO_CENTRAL_ID)
    if volunteer is None:
        volunteer = volunteers.add(
            session,
            Volunteer(
                central_id=DEMO_CENTRAL_ID,
                username=DEMO_USERNAME,
                approved=True,
                identified=True,
                email="demo@example.org",
            ),
        )
    demo_queues = []
    for spec in QUEUES:
        queue = queues.ensure(session, spec.name, spec.kind, signature=spec.signature)
        if spec.address and queues.by_addresses(session, [spec.address]) is None:
            queues.add_address(session, queue, spec.address, spec.display_name)
        demo_queues.append(queue)
    scope = access.scope_for(session, volunteer)
    for queue in demo_queues:
        if not scope.can_write(queue.id):
            volunteers.grant(session, volunteer.id, queue.id, "rw")
    return volunteer.id
