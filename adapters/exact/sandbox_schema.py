"""Field lists, Edm types, filter allow-lists and writable fields of the simulated Exact entities.

Sources: docs/reference/exact.md §1.5 (Me, Divisions), §3.1 (ReceivablesList), §3.2 (Receivables),
§3.3 (PaymentTerms), §4 (sync/Deleted), §6 (crm/Accounts), §7 (Tasks, CommunicationNotes,
Documents, DocumentAttachments).
"""

from __future__ import annotations

from dataclasses import dataclass

# Edm type names, as Exact writes them in its reference.
GUID, STR, I16, I32, I64, DBL, BOOL, DT, BYTE = (
    "Edm.Guid", "Edm.String", "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Double", "Edm.Boolean",
    "Edm.DateTime", "Edm.Byte",
)


@dataclass(frozen=True)
class Entity:
    """One endpoint's shape."""

    type_name: str
    fields: dict[str, str]  # name -> Edm type, in output order
    filterable: frozenset[str] | None = None  # None: every field
    writable: frozenset[str] = frozenset()
    key: str = "ID"

    @property
    def names(self) -> list[str]:
        return list(self.fields)

    @property
    def guid_fields(self) -> set[str]:
        return {n for n, t in self.fields.items() if t == GUID}


# --------------------------------------------------------------------------- §6 accounts

_ACCOUNT: dict[str, str] = {
    "ID": GUID, "Code": STR, "Name": STR, "Status": STR, "IsSales": BOOL, "IsSupplier": BOOL, "Blocked": BOOL,
    "CreditLineSales": DBL, "CreditLinePurchase": DBL, "Language": STR, "LanguageDescription": STR,
    "Email": STR, "Phone": STR, "Fax": STR, "Website": STR, "PaymentConditionSales": STR,
    "PaymentConditionSalesDescription": STR, "VATNumber": STR, "ChamberOfCommerce": STR,
    **{f"Classification{i}": GUID for i in range(1, 9)},
    "Country": STR, "City": STR, "Postcode": STR, "AddressLine1": STR, "AddressLine2": STR, "AddressLine3": STR,
    "State": STR, "MainContact": GUID, "InvoiceAccount": GUID, "Parent": GUID, "Reseller": GUID,
    "InvoicingMethod": I32, "Remarks": STR, "StartDate": DT, "EndDate": DT, "Type": STR, "Created": DT,
    "Modified": DT, "Division": I32, "GLAR": GUID, "CustomField": STR,
}

#: §6 "filter" column: fields marked as mandatory/allowed filters on crm/Accounts.
ACCOUNT_FILTERABLE = frozenset(
    {
        "ID", "Code", "Name", "Status", "IsSales", "IsSupplier", "Blocked", "Email", "Phone", "Fax", "VATNumber",
        "ChamberOfCommerce", *(f"Classification{i}" for i in range(1, 9)), "Country", "City", "Postcode",
        "AddressLine1", "AddressLine2", "AddressLine3", "State", "MainContact", "InvoiceAccount", "Parent",
        "Reseller", "StartDate", "EndDate", "Type", "Created", "Modified",
    }
)

#: §6 "writable (POST/PUT)" column. IsSales, LanguageDescription, …Description, Created, Modified,
#: Division, Type and CustomField are read-only.
ACCOUNT_WRITABLE = frozenset(
    {
        "Code", "Name", "Status", "IsSupplier", "Blocked", "CreditLineSales", "CreditLinePurchase", "Language",
        "Email", "Phone", "Fax", "Website", "PaymentConditionSales", "VATNumber", "ChamberOfCommerce",
        *(f"Classification{i}" for i in range(1, 9)), "Country", "City", "Postcode", "AddressLine1",
        "AddressLine2", "AddressLine3", "State", "MainContact", "InvoiceAccount", "Parent", "Reseller",
        "InvoicingMethod", "Remarks", "StartDate", "EndDate", "GLAR",
    }
)

ACCOUNTS = Entity("Exact.Web.Api.Models.Account", _ACCOUNT, ACCOUNT_FILTERABLE, ACCOUNT_WRITABLE)
#: §4: sync variant = same fields plus Timestamp; only Timestamp may be filtered (§2.5).
SYNC_ACCOUNTS = Entity(
    "Exact.Web.Api.Models.Sync.CRM.Account", {**_ACCOUNT, "Timestamp": I64}, frozenset({"Timestamp"}), key="Timestamp"
)

# --------------------------------------------------------------------------- §3.2 receivables / §3.3 terms

_TERM: dict[str, str] = {
    "ID": GUID, "Account": GUID, "AccountCode": STR, "AccountName": STR, "AccountCountry": STR,
    "AccountContact": GUID, "AccountContactName": STR, "AccountBankAccountID": GUID, "AccountBankAccountNumber": STR,
    "AmountDC": DBL, "AmountFC": DBL, "AmountDiscountDC": DBL, "AmountDiscountFC": DBL,
    "TransactionAmountDC": DBL, "TransactionAmountFC": DBL, "RateFC": DBL, "Currency": STR, "Description": STR,
    "DueDate": DT, "DiscountDueDate": DT, "TransactionDueDate": DT, "InvoiceDate": DT, "InvoiceNumber": I32,
    "EntryNumber": I32, "OrderNumber": I32, "YourRef": STR, "EntryDate": DT, "EntryID": GUID,
    "TransactionEntryID": GUID, "TransactionID": GUID, "TransactionType": I32, "TransactionStatus": I16,
    "TransactionIsReversal": BOOL, "TransactionReportingYear": I16, "TransactionReportingPeriod": I16,
    "Status": I16, "IsFullyPaid": BOOL, "LastPaymentDate": DT, "EndDate": DT, "EndPeriod": I16, "EndYear": I16,
    "Source": I32, "PaymentMethod": STR, "PaymentReference": STR, "PaymentCondition": STR,
    "PaymentConditionDescription": STR, "PaymentDays": I32, "PaymentDaysDiscount": I32,
    "PaymentDiscountPercentage": DBL, "DirectDebitMandate": GUID, "DirectDebitMandateDescription": STR,
    "DirectDebitMandateReference": STR, "DirectDebitMandatePaymentType": I16, "DirectDebitMandateType": I16,
    "GLAccount": GUID, "GLAccountCode": STR, "GLAccountDescription": STR, "Journal": STR, "JournalDescription": STR,
    "BankAccountID": GUID, "BankAccountNumber": STR, "CashflowTransactionBatchCode": STR,
    "ReceivableBatchNumber": I32, "ReceivableSelected": DT, "ReceivableSelector": GUID,
    "ReceivableSelectorFullName": STR, "EndToEndID": STR, "PaymentInformationID": STR, "IsBatchBooking": BYTE,
    "Document": GUID, "DocumentNumber": I32, "DocumentSubject": STR, "Created": DT, "Creator": GUID,
    "CreatorFullName": STR, "Modified": DT, "Modifier": GUID, "ModifierFullName": STR, "Division": I32,
}

#: §2.5: the only fields bulk/Cashflow/Receivables may be filtered on.
BULK_RECEIVABLE_FILTERABLE = frozenset(
    {
        "Account", "Document", "EndDate", "EndToEndID", "EntryDate", "EntryID", "GLAccount", "ID", "InvoiceDate",
        "InvoiceNumber", "Source", "Status", "TransactionID", "TransactionType",
    }
)

RECEIVABLES = Entity(
    "Exact.Web.Api.Models.Cashflow.Receivable", _TERM,
    writable=frozenset({"Description", "PaymentMethod", "PaymentReference"}),  # §3.2 PUT-able fields
)
BULK_RECEIVABLES = Entity("Exact.Web.Api.Models.Bulk.Cashflow.Receivable", _TERM, BULK_RECEIVABLE_FILTERABLE)
#: §3.3: the §3.2 fields plus Timestamp, LineType, ApprovalStatus and the payment-selection fields.
SYNC_TERMS = Entity(
    "Exact.Web.Api.Models.Sync.Cashflow.PaymentTerm",
    {
        **_TERM, "Timestamp": I64, "LineType": I16, "ApprovalStatus": I16, "PaymentBatchNumber": I32,
        "PaymentSelected": DT, "PaymentSelector": GUID, "PaymentSelectorFullName": STR,
    },
    frozenset({"Timestamp"}),
    key="Timestamp",
)

# --------------------------------------------------------------------------- §3.1 ReceivablesList

RECEIVABLES_LIST = Entity(
    "Exact.Web.Api.Models.Financial.ReceivablesList",
    {
        "HID": I64, "AccountId": GUID, "AccountCode": STR, "AccountName": STR, "Amount": DBL, "AmountInTransit": DBL,
        "CurrencyCode": STR, "Description": STR, "DueDate": DT, "EntryNumber": I32, "Id": GUID, "InvoiceDate": DT,
        "InvoiceNumber": I32, "JournalCode": STR, "JournalDescription": STR, "YourRef": STR,
    },
    key="HID",
)

# --------------------------------------------------------------------------- §4 sync/Deleted

DELETED = Entity(
    "Exact.Web.Api.Models.Sync.Deleted.Deleted",
    {"Timestamp": I64, "DeletedBy": GUID, "DeletedDate": DT, "Division": I32, "EntityKey": GUID, "EntityType": I16,
     "ID": GUID},
    # §4: the docs allow only Timestamp, but Exact's own demo also filters EntityType; the sandbox
    # accepts both so either reading works [UNVERIFIED].
    frozenset({"Timestamp", "EntityType"}),
    key="Timestamp",
)
ENTITY_TYPE_ACCOUNTS, ENTITY_TYPE_PAYMENT_TERMS = 2, 10

# --------------------------------------------------------------------------- §1.5 Me, Divisions

ME = Entity(
    "Exact.Web.Api.System.Me",
    {
        "UserID": GUID, "CurrentDivision": I32, "AccountingDivision": I32, "DossierDivision": I32,
        "DivisionCustomer": GUID, "DivisionCustomerCode": STR, "DivisionCustomerName": STR,
        "DivisionCustomerVatNumber": STR, "Email": STR, "FullName": STR, "UserName": STR, "Language": STR,
        "LanguageCode": STR, "Legislation": I64, "ServerTime": STR, "ServerUtcOffset": DBL, "IsClientUser": BOOL,
        "IsStarterUser": BOOL, "IsMyFirmPortalUser": BOOL,
    },
    key="UserID",
)

DIVISIONS = Entity(
    "Exact.Web.Api.System.SystemDivision",
    {
        "Code": I32, "Description": STR, "Current": BOOL, "Hid": I64, "Status": I16, "IsMainDivision": BOOL,
        "IsDossierDivision": BOOL, "Country": STR, "Currency": STR, "DivisionMoveDate": DT,
        "DivisionHRLinkUnlinkDate": DT, "Customer": GUID, "CustomerCode": STR, "CustomerName": STR,
        "VATNumber": STR, "Created": DT, "Modified": DT,
    },
    key="Code",
)

#: §1.5 ``system/AllDivisions``: "all divisions of one licence"; the ``system/Divisions`` fields [UNVERIFIED
#: type name; the reference gives no field list of its own].
ALL_DIVISIONS = Entity("Exact.Web.Api.System.AllDivision", dict(DIVISIONS.fields), key="Code")

#: §1.5 ``hrm/Divisions``: "restricted to one licence and to divisions the user may reach". The reference
#: names ``Code`` (the URL number) and ``Description`` (ossobv's ``$select=Code,Description``); Exact's
#: documentation spells the customer's number ``HID`` here, not ``Hid`` as on ``system/Divisions`` (issue 16
#: point 6); the other fields mirror ``system/Divisions`` [UNVERIFIED field list and type name].
HRM_DIVISIONS = Entity(
    "Exact.Web.Api.Models.HRM.Division",
    {
        "Code": I32, "Description": STR, "HID": I64, "Status": I16, "Country": STR, "Currency": STR,
        "Customer": GUID, "CustomerCode": STR, "CustomerName": STR, "VATNumber": STR, "Created": DT, "Modified": DT,
    },
    key="Code",
)

# --------------------------------------------------------------------------- §7 write-back entities

TASKS = Entity(
    "Exact.Web.Api.Models.Activities.Task",
    {
        "ID": GUID, "Account": GUID, "AccountName": STR, "ActionDate": DT, "Contact": GUID, "CustomTaskType": GUID,
        "Description": STR, "Document": GUID, "Notes": STR, "Status": I16, "TaskType": I32, "User": GUID,
        "UserFullName": STR, "Created": DT, "Creator": GUID, "CreatorFullName": STR, "Modified": DT,
        "Division": I32,
    },
    writable=frozenset({"Account", "Contact", "ActionDate", "Description", "Notes", "User", "TaskType",
                        "CustomTaskType", "Document"}),
)
#: TaskType is write-only (§7): it is never returned.
TASK_WRITE_ONLY = frozenset({"TaskType"})

NOTES = Entity(
    "Exact.Web.Api.Models.Activities.CommunicationNote",
    {
        "ID": GUID, "Account": GUID, "AccountName": STR, "Contact": GUID, "Date": DT, "Document": GUID,
        "Notes": STR, "Subject": STR, "User": GUID, "UserFullName": STR, "Created": DT, "Creator": GUID,
        "CreatorFullName": STR, "Modified": DT, "Division": I32,
    },
    writable=frozenset({"Account", "Contact", "Date", "Subject", "Notes", "User", "Document"}),
)

DOCUMENTS = Entity(
    "Exact.Web.Api.Models.Documents.Document",
    {
        "ID": GUID, "Account": GUID, "AccountName": STR, "Body": STR, "Category": GUID, "DocumentDate": DT,
        "Subject": STR, "Type": I32, "HasEmptyBody": BOOL, "Created": DT, "Creator": GUID, "CreatorFullName": STR,
        "Modified": DT, "Division": I32,
    },
    writable=frozenset({"Account", "Body", "Category", "DocumentDate", "Subject", "Type"}),
)

ATTACHMENTS = Entity(
    "Exact.Web.Api.Models.Documents.DocumentAttachment",
    {"ID": GUID, "Attachment": STR, "Document": GUID, "FileName": STR, "FileSize": DBL, "Url": STR},
    writable=frozenset({"Document", "FileName", "Attachment"}),
)
