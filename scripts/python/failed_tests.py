#!/usr/bin/env python3
"""Reads the failed test cases of a Swift Testing xunit file (`swift test --xunit-output`).

Usage: failed_tests.py FILE            one `--filter` pattern per failed test, `[./]Suite/test\\(\\)` (a
                                       test's identifier is `Module.Suite/test()/file.swift:line:column`)
       failed_tests.py FILE --report   the failed tests with their failure messages, for the end of a CI log
       failed_tests.py FILE --confirm AGAIN
                                       exit 0 when every test that failed in FILE ran in AGAIN (the rerun's
                                       xunit file) and passed there; else name the ones that did not
Exits 2 when FILE cannot be read or parsed.
"""
import re
import sys
import xml.etree.ElementTree as ET


def control(reference):
    """Whether a character reference's number (`x1F`, `31`) is a control character XML 1.0 does not allow."""
    code = int(reference[1:], 16) if reference[0] in "xX" else int(reference)
    return code < 0x20 and code not in (0x09, 0x0A, 0x0D)


def reported_failures(path):
    """The failures the xunit file's suites count, some of which (issues recorded outside any test) have no test
    case of their own."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return sum(int(n) for n in re.findall(r'<testsuite [^>]*failures="([0-9]+)"', text))


def cases(path, skipped_fails=False):
    """(classname, name, failure messages) of every test case. Swift Testing writes control characters of failure
    messages raw, which XML does not allow: they are removed before parsing."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", f.read())
    # The same characters written as character references.
    text = re.sub(r"&#(x[0-9a-fA-F]+|[0-9]+);", lambda m: "" if control(m.group(1)) else m.group(0), text)
    root = ET.fromstring(text)
    for case in root.iter("testcase"):
        problems = case.findall("failure") + case.findall("error")
        if skipped_fails and case.findall("skipped"):
            problems.append(ET.Element("skipped", message="skipped"))
        yield case.get("classname", ""), case.get("name", ""), [p.get("message") or (p.text or "") for p in problems]


def main():
    path = sys.argv[1]
    try:
        all_cases = list(cases(path))
    except (OSError, ET.ParseError) as error:
        report = "--report" in sys.argv[2:]
        print(f"  (the xunit file {path} could not be read: {error})", file=sys.stdout if report else sys.stderr)
        sys.exit(2)
    failed = [(c, n, m) for c, n, m in all_cases if m]
    if "--confirm" in sys.argv[2:]:
        try:
            again = {(c, n): m for c, n, m in cases(sys.argv[sys.argv.index("--confirm") + 1], skipped_fails=True)}
        except (OSError, ET.ParseError) as error:
            print(f"  the rerun left no readable xunit file: {error}")
            sys.exit(1)
        missing = [f"{c}/{n}" for c, n, _ in failed if (c, n) not in again or again[(c, n)]]
        unnamed = reported_failures(path) - sum(len(m) for _, _, m in failed)
        if unnamed > 0:
            missing.append(f"{unnamed} failure(s) recorded outside any test")
        for name in missing:
            print(f"  not passed when run again: {name}")
        sys.exit(1 if missing else 0)
    for classname, name, messages in failed:
        if "--report" in sys.argv[2:]:
            print(f"  FAIL  {classname}/{name}")
            for message in messages:
                for line in message.strip().splitlines()[:6]:
                    print(f"        {line[:300]}")
        else:
            print("[./]" + re.escape(f"{classname.rsplit('.', 1)[-1]}/{name}"))


if __name__ == "__main__":
    main()
