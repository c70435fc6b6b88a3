"""Recurrent controllers behind one interface (see `base.Controller`)."""

from agents.controllers.base import Context, Controller, State, reset_state

__all__ = ["Context", "Controller", "State", "reset_state"]
