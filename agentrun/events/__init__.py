"""The event stream (frozen records and the bus) and its one fold into run state."""
