"""Ticket domain: numbers, states and the operations volunteers perform."""
