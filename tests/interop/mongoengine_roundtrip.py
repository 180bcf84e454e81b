"""MongoEngine's half of the interop test (Debian's python3-mongoengine).

write <uri> <db>: saves documents the way a MongoEngine application does, including an
inheritance hierarchy (allow_inheritance, _cls).
check <uri> <db>: loads what mongo_orm saved and checks every field; exits non-zero on any
mismatch.
"""
import datetime
import sys

from mongoengine import (BooleanField, DateTimeField, Document, EmbeddedDocument,
                         EmbeddedDocumentField, IntField, ListField, StringField, connect)


class Address(EmbeddedDocument):
    city = StringField(required=True)
    zip = StringField()


class Person(Document):
    name = StringField(required=True, max_length=100)
    email = StringField()
    age = IntField()
    active = BooleanField(default=True)
    joined = DateTimeField()
    address = EmbeddedDocumentField(Address)
    tags = ListField(StringField())
    meta = {"collection": "people"}


class Human(Document):
    name = StringField()
    meta = {"allow_inheritance": True, "collection": "human"}


class Jedi(Human):
    dark_side = BooleanField()
    light_saber_color = StringField()


def write():
    Person(name="John Doe", email="john@example.com", age=42, active=False,
           joined=datetime.datetime(2023, 1, 2, 3, 4, 5, 678000),
           address=Address(city="Boston", zip="02108"), tags=["a", "b"]).save()
    Human(name="Luke").save()
    Jedi(name="Darth Vader", dark_side=True, light_saber_color="red").save()
    Jedi(name="Obi Wan Kenobi", dark_side=False, light_saber_color="blue").save()


def check():
    failures = []

    def expect(what, actual, wanted):
        if actual != wanted:
            failures.append(f"{what}: got {actual!r}, expected {wanted!r}")

    ada = Person.objects(email="ada@example.com").first()
    if ada is None:
        failures.append("the Person saved by mongo_orm was not found")
    else:
        ada.validate()
        expect("name", ada.name, "Ada Lovelace")
        expect("age", ada.age, 36)
        expect("active", ada.active, True)
        expect("joined", ada.joined, datetime.datetime(2024, 5, 6, 7, 8, 9, 123000))
        expect("address.city", ada.address.city, "London")
        expect("tags", ada.tags, ["math", "poetry"])
    john = Person.objects(email="john@example.com").first()
    expect("John's age after mongo_orm's save", john.age, 43)
    expect("John's tags after mongo_orm's save", john.tags, ["a", "b", "c"])
    expect("Human.objects.count()", Human.objects.count(), 4)
    expect("Jedi.objects.count()", Jedi.objects.count(), 3)
    yoda = Jedi.objects(name="Yoda").first()
    if yoda is None:
        failures.append("the Jedi saved by mongo_orm was not found through MongoEngine")
    else:
        expect("Yoda's class", type(yoda).__name__, "Jedi")
        expect("Yoda's saber", yoda.light_saber_color, "green")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("mongoengine: everything mongo_orm saved loads correctly")


if __name__ == "__main__":
    command, uri, database = sys.argv[1:4]
    connect(host=uri, db=database)
    {"write": write, "check": check}[command]()
