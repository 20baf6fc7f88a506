"""Rasa custom actions (rasa_sdk). They import nothing of Loket's other packages."""

from actions.bill import ActionCheckBill, ValidateBillForm
from actions.complaint import (
    ActionCheckComplaint,
    ActionOpenComplaint,
    ActionReportDetail,
    ValidateComplaintForm,
    ValidateTicketForm,
)
from actions.conversation import ActionCancelForm, ActionRequestHuman
from actions.offers import ActionCannotHelp, ActionOfferForValue, ActionWithoutValue
from actions.rephrase import ActionRephrase
from actions.slots import ValidateSlotMappings
from actions.token import (
    ActionAskAmount,
    ActionAskConfirmPurchase,
    ActionBuyToken,
    ValidateBuyTokenForm,
)
from actions.transaction import ActionCheckTransaction, ValidateTransactionForm

__all__ = [
    "ActionAskAmount",
    "ActionAskConfirmPurchase",
    "ActionBuyToken",
    "ActionCancelForm",
    "ActionCannotHelp",
    "ActionCheckBill",
    "ActionCheckComplaint",
    "ActionCheckTransaction",
    "ActionOfferForValue",
    "ActionOpenComplaint",
    "ActionRephrase",
    "ActionReportDetail",
    "ActionRequestHuman",
    "ActionWithoutValue",
    "ValidateBillForm",
    "ValidateBuyTokenForm",
    "ValidateComplaintForm",
    "ValidateSlotMappings",
    "ValidateTicketForm",
    "ValidateTransactionForm",
]
