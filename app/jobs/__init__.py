"""Jobs: requests run later by worker processes on arq's Redis queue, results in the store."""
