"""MongoEngine's find-and-hydrate of 100k user documents, for scripts/bench.sh.

Inserts the same documents the C++ benchmark uses (with pymongo), then times
end to end:   list(User.objects)                    (query, transfer, hydrate)
hydrate only: [User._from_son(d) for d in raw]      (documents already fetched)
and prints one JSON line.
"""
import datetime
import json
import sys
import time

from mongoengine import (BooleanField, DateTimeField, DictField, Document, EmbeddedDocument,
                         EmbeddedDocumentField, FloatField, IntField, ListField, LongField,
                         StringField, connect)

N = 100_000


class Address(EmbeddedDocument):
    street = StringField()
    city = StringField()
    zip = StringField()
    geo = ListField(FloatField())


class User(Document):
    name = StringField()
    email = StringField()
    age = IntField()
    active = BooleanField()
    balance = FloatField()
    created_at = DateTimeField()
    score = LongField()
    address = EmbeddedDocumentField(Address)
    tags = ListField(StringField())
    login_count = IntField()
    plan = StringField()
    meta = {"collection": "users_mongoengine"}


def document(i):
    return {
        "name": "John Doe", "email": f"john.doe{i}@example.com", "age": 20 + i % 50,
        "active": i % 2 == 0, "balance": 1234.56 + i,
        "created_at": datetime.datetime(2023, 11, 14, 22, 13, 20) + datetime.timedelta(milliseconds=i),
        "score": i,
        "address": {"street": "1 Infinite Loop", "city": "Cupertino", "zip": "95014", "geo": [37.33, -122.03]},
        "tags": ["admin", "beta", "premium"], "login_count": 17, "plan": "pro",
    }


def main():
    uri, database = sys.argv[1], sys.argv[2]
    connect(host=uri, db=database)
    collection = User._get_collection()
    collection.drop()
    for start in range(0, N, 10_000):
        collection.insert_many([document(i) for i in range(start, min(N, start + 10_000))])

    started = time.perf_counter()
    users = list(User.objects)
    end_to_end = time.perf_counter() - started
    assert len(users) == N

    raw = list(collection.find())
    started = time.perf_counter()
    hydrated = [User._from_son(d) for d in raw]
    hydrate_only = time.perf_counter() - started
    assert len(hydrated) == N and hydrated[0].address.city == "Cupertino"

    collection.drop()
    print(json.dumps({"peer": "MongoEngine", "documents": N, "end_to_end_s": end_to_end,
                      "hydrate_only_s": hydrate_only}))


if __name__ == "__main__":
    main()
