"""What-if: a proposed workspace replayed over the account's history.

replay.py drives the replay's clock; distribution.py is push under the
proposal (the engine, fed by the history); account.py, limits.py and
hours.py rebuild what push and the limits ask about; tally.py counts both
sides of the comparison alike; result.py puts them side by side.
"""
