// Uses the installed package against the server: insert, read back, count.
#include <mongo_orm/mongo_orm.hpp>

#include <cstdlib>
#include <iostream>

int main() {
  using namespace mongo_orm;
  const char* uri = std::getenv("MONGODB_URI");
  if (!uri) {
    std::cerr << "consumer: MONGODB_URI is not set\n";
    return 1;
  }
  try {
    Client client(uri);
    Collection users = client.database("consumer_package_check").collection("users");
    users.drop();
    users.insert_one(bson::Builder{}.append("name", "John Doe").append("email", "john@example.com").extract());
    auto found = users.find_one(bson::Builder{}.append("email", "john@example.com").extract());
    if (!found || (*found)["name"].as_string() != "John Doe" || users.count_documents() != 1) {
      std::cerr << "consumer: unexpected data read back\n";
      return 1;
    }
    client.database("consumer_package_check").drop();
    std::cout << "consumer: ok (" << to_string(client.capabilities().kind) << ")\n";
    return 0;
  } catch (const Error& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
}
