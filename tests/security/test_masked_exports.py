import pytest
from django.contrib.auth.models import Permission, User
from django.test import RequestFactory

from citygrid.core.errors import ValidationFailed
from citygrid.org import sheets
from citygrid.org.models import Person
from citygrid.security.context import current_request


@pytest.fixture
def person(db):
    user = User.objects.create_user("wang", email="wangwu@example.cn")
    return Person.objects.create(user=user, display_name="王五", phone="13812345678")


def rows_for(viewer):
    return sheets.people_rows(Person.objects.all(), viewer)


def test_contacts_are_masked_for_viewers_without_the_permission(person):
    clerk = User.objects.create_user("clerk")
    row = rows_for(clerk)[0]
    assert (row["phone"], row["email"]) == ("138****5678", "w*****@example.cn")
    assert row["display_name"] == "王五" and row["username"] == "wang"


def test_contacts_are_shown_with_the_permission(person):
    hr = User.objects.create_user("hr")
    hr.user_permissions.add(Permission.objects.get(codename="view_person_contact"))
    hr = User.objects.get(pk=hr.pk)  # fresh permission cache
    row = rows_for(hr)[0]
    assert (row["phone"], row["email"]) == ("13812345678", "wangwu@example.cn")


def test_without_a_viewer_the_request_user_decides(person):
    request = RequestFactory().get("/admin/org/person/")
    request.user = User.objects.create_user("clerk")
    token = current_request.set(request)
    try:
        assert sheets.people_rows(Person.objects.all())[0]["phone"] == "138****5678"
    finally:
        current_request.reset(token)
    assert sheets.people_rows(Person.objects.all())[0]["phone"] == "13812345678"  # a command


def test_a_masked_sheet_is_refused_on_import(person):
    sheet = "username,display_name,phone\r\nwang,王五,138****5678\r\n".encode()
    with pytest.raises(ValidationFailed) as caught:
        sheets.import_file(None, "people", sheet, "p.csv")
    assert {d["column"] for d in caught.value.details} == {"phone"}
    assert Person.objects.get().phone == "13812345678"
