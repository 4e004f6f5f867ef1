#!/usr/bin/env python3
"""Lists the failed test cases of a Swift Testing xunit file (`swift test --xunit-output`).

Usage: failed_tests.py FILE            one `--filter` pattern per failed test, `[./]Suite/test\\(\\)` (a
                                       test's identifier is `Module.Suite/test()/file.swift:line:column`)
       failed_tests.py FILE --report   the failed tests with their failure messages, for the end of a CI log
"""
import re
import sys
import xml.etree.ElementTree as ET


def failed(path):
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        problems = case.findall("failure") + case.findall("error")
        if problems:
            yield case.get("classname", ""), case.get("name", ""), [p.get("message") or (p.text or "") for p in problems]


def main():
    path = sys.argv[1]
    report = "--report" in sys.argv[2:]
    for classname, name, messages in failed(path):
        suite = classname.rsplit(".", 1)[-1]
        if report:
            print(f"  FAIL  {classname}/{name}")
            for message in messages:
                for line in message.strip().splitlines()[:6]:
                    print(f"        {line[:300]}")
        else:
            print("[./]" + re.escape(f"{suite}/{name}"))


if __name__ == "__main__":
    main()
