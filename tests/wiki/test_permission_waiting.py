"""Reading pending/received tags, and replacing them with {{No permission since}}."""

from __future__ import annotations

from datetime import date

from wikibridge.wiki.permission import WaitingTag, add_no_permission_since, waiting_tags

PENDING_IN_FIELD = """\
{{Information
|description=A bridge
|permission={{Permission pending|year=2024|month=January|day=2}}
}}
== {{int:license-header}} ==
{{cc-by-sa-4.0}}
"""


def test_waiting_tags_read_dates_and_ticket() -> None:
    text = (
        "{{OTRS pending|year=2019|month=05|day=3}}\n"
        "{{Permission received|id=2016060210016939|year=2020|month=Feb|day=29|user=Bob}}\n"
        "{{Permission pending}}\n"
        "{{Permission pending|year=2021|month=Smarch|day=1}}\n"
        "{{PermissionTicket|id=2013102810001251}}\n"
    )
    assert waiting_tags(text) == [
        WaitingTag("otrs pending", date(2019, 5, 3)),
        WaitingTag("permission received", date(2020, 2, 29), "2016060210016939"),
        WaitingTag("permission pending", None),
        WaitingTag("permission pending", None),
    ]
    assert waiting_tags(PENDING_IN_FIELD) == [WaitingTag("permission pending", date(2024, 1, 2))]
    assert waiting_tags("{{PermissionTicket|id=2016060210016939}}") == []


def test_no_permission_since_replaces_the_pending_tag_in_place() -> None:
    tagged = add_no_permission_since(PENDING_IN_FIELD, date(2024, 3, 5))
    assert tagged == PENDING_IN_FIELD.replace(
        "{{Permission pending|year=2024|month=January|day=2}}",
        "{{No permission since|day=5|month=March|year=2024}}",
    )
    assert waiting_tags(tagged) == []
    # A second run changes nothing, whatever the date.
    assert add_no_permission_since(tagged, date(2024, 4, 1)) == tagged


def test_no_permission_since_replaces_a_received_tag_too() -> None:
    text = "{{Permission received|id=2016060210016939|year=2020|month=1|day=2}}\nText\n"
    assert add_no_permission_since(text, date(2024, 3, 5)) == (
        "{{No permission since|day=5|month=March|year=2024}}\nText\n"
    )
