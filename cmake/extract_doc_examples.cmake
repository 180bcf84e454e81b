# Turns the ```cpp blocks of a Markdown page into one test source: blocks preceded by the line
# "<!-- namespace scope -->" go to namespace scope, the others, in order, into the body of
# `void FUNCTION(const mongo_orm::Database& db)` (FUNCTION defaults to run_doc_examples).
# Usage: cmake -DINPUT=page.md -DOUTPUT=page_examples.cpp [-DFUNCTION=name] -P extract_doc_examples.cmake
if(NOT FUNCTION)
  set(FUNCTION run_doc_examples)
endif()
file(STRINGS "${INPUT}" lines ENCODING UTF-8)
set(namespace_part "")
set(body_part "")
set(in_block FALSE)
set(next_is_namespace FALSE)
set(block_is_namespace FALSE)
foreach(line IN LISTS lines)
  if(in_block)
    if(line STREQUAL "```")
      set(in_block FALSE)
    elseif(block_is_namespace)
      string(APPEND namespace_part "${line}\n")
    else()
      string(APPEND body_part "  ${line}\n")
    endif()
  elseif(line STREQUAL "<!-- namespace scope -->")
    set(next_is_namespace TRUE)
  elseif(line STREQUAL "```cpp")
    set(in_block TRUE)
    set(block_is_namespace ${next_is_namespace})
    set(next_is_namespace FALSE)
  endif()
endforeach()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/extract_doc_examples.cmake; edit the page, not this file.\n"
  "${namespace_part}\n"
  "void ${FUNCTION}(const mongo_orm::Database& db) {\n${body_part}}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
