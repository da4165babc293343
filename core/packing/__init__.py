"""The bench between the printer and the courier's van: pick waves, pack check, handover."""
