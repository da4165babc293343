"""The scanner-or-person decision on the order screen (tui.widgets.scan_burst.BurstReader),
as plain logic on key timestamps."""

from dadan.tui.widgets.scan_burst import BurstReader, may_start

GAP = 0.05


def feed_all(reader, text, t0=0.0, step=0.004, enter=True):
    """A scanner: the characters 4 ms apart, then Enter. Returns the steps and the time after."""
    steps, t = [], t0
    for ch in text:
        steps.append(reader.feed(ch, ch, t))
        t += step
    if enter:
        steps.append(reader.feed("enter", "\r", t, enter=True))
    return steps, t


def test_burst_with_enter_is_a_scan_and_nothing_acts():
    r = BurstReader(GAP, 6)
    steps, _ = feed_all(r, "261120-123456789012345")
    assert all(s.hold for s in steps[:-1]) and not any(s.replay for s in steps)
    assert steps[-1].scan == "261120-123456789012345" and steps[-1].consume and not r.held


def test_tracking_numbers_with_letters_and_lower_case_inside():
    r = BurstReader(GAP, 6)
    steps, _ = feed_all(r, "YT5550001")
    assert steps[-1].scan == "YT5550001"
    steps, _ = feed_all(r, "Sfx12345", t0=1.0)  # upper first, then anything of the code alphabet
    assert steps[-1].scan == "Sfx12345"


def test_a_person_pressing_one_digit_gets_the_hotkey_after_the_window():
    r = BurstReader(GAP, 6)
    s = r.feed("2", "2", 0.0)
    assert s.hold and not s.passes
    assert abs(r.due(0.01) - 0.04) < 1e-9
    assert r.timeout(0.02) is None  # not yet
    done = r.timeout(0.06)
    assert done.replay == ["2"] and not done.scan and not r.held


def test_lower_case_hotkeys_act_at_once():
    r = BurstReader(GAP, 6)
    for key in "psatfvrq":
        s = r.feed(key, key, 0.0)
        assert s.passes and not s.replay
    assert not may_start("p") and may_start("S") and may_start("7") and may_start("-")


def test_short_burst_then_enter_replays_in_order_before_enter():
    r = BurstReader(GAP, 6)
    r.feed("3", "3", 0.0)
    r.feed("S", "S", 0.01)
    s = r.feed("enter", "\r", 0.02, enter=True)
    assert s.replay == ["3", "S"] and s.passes and not s.scan


def test_other_key_during_a_hold_replays_first_and_passes():
    r = BurstReader(GAP, 6)
    r.feed("1", "1", 0.0)
    s = r.feed("f2", None, 0.01)
    assert s.replay == ["1"] and s.passes


def test_a_slow_second_key_is_a_new_burst():
    r = BurstReader(GAP, 6)
    r.feed("1", "1", 0.0)
    s = r.feed("2", "2", 0.3)  # the timer was late: the first key is replayed, the second held
    assert s.replay == ["1"] and s.hold and r.reading == "2"


def test_key_repeat_is_not_a_scan():
    r = BurstReader(GAP, 6)
    steps, _ = feed_all(r, "SSSSSSSS")
    assert not steps[-1].scan and steps[-1].replay == ["S"] * 8 and steps[-1].passes


def test_too_short_to_be_a_code():
    r = BurstReader(GAP, 6)
    steps, _ = feed_all(r, "12345")
    assert not steps[-1].scan and steps[-1].replay == list("12345")


def test_scan_ended_by_a_pause_and_its_late_enter_swallowed():
    r = BurstReader(GAP, 6)
    _, t = feed_all(r, "YT5550001", enter=False)
    done = r.timeout(t + 0.1)
    assert done.scan == "YT5550001"
    # the scanner's Enter, typed right after the code but handled after the timer
    s = r.feed("enter", "\r", t + 0.002, enter=True)
    assert s.consume and not s.passes
    # a person's Enter later opens the row as usual
    assert r.feed("enter", "\r", t + 1.0, enter=True).passes


def test_late_enter_still_ends_a_complete_code():
    r = BurstReader(GAP, 6)
    _, t = feed_all(r, "YT5550001", enter=False)
    s = r.feed("enter", "\r", t + 0.5, enter=True)  # the app was busy: no timer ran in between
    assert s.scan == "YT5550001" and s.consume
