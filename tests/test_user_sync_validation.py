"""Row validation (whatfix_data.user_sync.validation): every problem with its row number."""

from __future__ import annotations

from whatfix_data.user_sync.mapping import guess_mapping
from whatfix_data.user_sync.reading import read_upload
from whatfix_data.user_sync.validation import MAX_ATTRIBUTES, validate


def _validate(text: str):
    table = read_upload(text.encode(), "users.csv")
    return validate(table, guess_mapping(table.columns))


def _problems_by_row(validation) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for row, problem in validation.problems[["row", "problem"]].itertuples(index=False):
        grouped.setdefault(int(row), []).append(problem)
    return grouped


def test_valid_rows_are_typed_and_empty_cells_left_out() -> None:
    validation = _validate("userId,email,name,seats,active,zip\nu1,a@x.com,Ann,5,true,02139\n"
                           "u2,,,,,\n")
    assert validation.invalid_count == 0
    records = validation.records.to_dict("records")
    assert records[0] == {"row": 2, "user_id": "u1", "email": "a@x.com", "name": "Ann",
                          "attributes": {"seats": 5, "active": True, "zip": "02139"}}
    assert records[1] == {"row": 3, "user_id": "u2", "email": None, "name": None,
                          "attributes": {}}


def test_each_kind_of_problem_is_reported_on_its_row() -> None:
    text = (
        "userId,email,role\n"
        "u1,a@x.com,Admin\n"          # 2 ok
        ",b@x.com,User\n"             # 3 missing userId
        "u3,not-an-email,User\n"      # 4 invalid email
        "u4,d@x.com,=HYPERLINK(\"x\")\n"  # 5 formula
        "u5,e@x.com,@SUM(A1)\n"       # 6 formula with @
        "u6,f@x.com,-5\n"             # 7 ok: a negative number is not a formula
        "u7,g@x.com,User,extra\n"     # 8 more cells than the header
        "dup,h@x.com,User\n"          # 9 duplicate
        "dup,i@x.com,User\n"          # 10 duplicate
    )
    validation = _validate(text)
    problems = _problems_by_row(validation)
    assert set(problems) == {3, 4, 5, 6, 8, 9, 10}
    assert "missing" in problems[3][0]
    assert "not a valid address" in problems[4][0]
    assert "formula" in problems[5][0] and "formula" in problems[6][0]
    assert "header has 3" in problems[8][0]
    assert "row(s) 10" in problems[9][0] and "row(s) 9" in problems[10][0]
    assert validation.records["row"].tolist() == [2, 7]
    assert validation.valid_count + validation.invalid_count == validation.total_rows == 9


def test_a_row_with_two_problems_is_one_invalid_row_with_both_messages() -> None:
    validation = _validate("userId,email,role\nu1,bad,=1+1\n")
    assert len(validation.problems) == 2
    assert validation.invalid["row"].tolist() == [2]
    message = validation.invalid.loc[0, "message"]
    assert "email" in message and "formula" in message


def test_more_than_the_attribute_limit_is_invalid() -> None:
    names = [f"a{i}" for i in range(MAX_ATTRIBUTES + 2)]
    full = ",".join("x" for _ in names)
    sparse = ",".join("x" if i < MAX_ATTRIBUTES else "" for i in range(len(names)))
    text = "userId," + ",".join(names) + f"\nu1,{full}\nu2,{sparse}\n"
    validation = _validate(text)
    assert validation.invalid["row"].tolist() == [2]
    assert f"{MAX_ATTRIBUTES + 2} attributes" in validation.invalid.loc[0, "message"]
    assert validation.records["user_id"].tolist() == ["u2"]


def test_undecodable_text_is_invalid() -> None:
    table = read_upload("userId,name\nu1,Jos\ufffd\nu2,Ann\n".encode(), "broken.csv")
    validation = validate(table, guess_mapping(table.columns))
    assert validation.invalid["row"].tolist() == [2]
    assert "could not be decoded" in validation.invalid.loc[0, "message"]


def test_control_characters_in_user_id_are_invalid() -> None:
    validation = _validate('userId,email\n"u1\tx",a@x.com\n')
    assert "control characters" in validation.invalid.loc[0, "message"]


def test_ignored_columns_are_not_validated_or_sent() -> None:
    table = read_upload(b"userId,notes\nu1,=bad()\n", "users.csv")
    mapping = guess_mapping(table.columns).with_fields(table.columns, ignored=["notes"])
    validation = validate(table, mapping)
    assert validation.invalid_count == 0
    assert validation.records.loc[0, "attributes"] == {}


def test_fifty_thousand_rows_validate() -> None:
    lines = ["userId,email,name,role,seats,active"]
    lines += [f"u{i},u{i}@x.com,User {i},Admin,{i},true" for i in range(50_000)]
    validation = _validate("\n".join(lines) + "\n")  # speed: bench/bench_user_sync.py
    assert validation.valid_count == 50_000


def test_double_encoded_text_is_invalid_but_real_accents_are_fine() -> None:
    validation = _validate("userId,name,city\nu1,JosÃ© Müller,Köln\nu2,José Müller,SÃO PAULO\n")
    assert validation.invalid["row"].tolist() == [2]
    assert "converted twice" in validation.invalid.loc[0, "message"]
    assert validation.records.loc[0, "attributes"] == {"city": "SÃO PAULO"}
