"""SOAP envelopes as the Twinfield sandbox reads and writes them (research notes §1.5, §2, §6.3).

* SOAP 1.1 (``text/xml``, ``SOAPAction`` header) and SOAP 1.2 (``application/soap+xml``, action
  in the content type) — both bindings are in the official processxml WSDL.
* Header ``<Header xmlns="http://www.twinfield.com/">`` with ``SessionID``, ``AccessToken``,
  ``CompanyCode``, ``CompanyId`` (WSDL order).
* Faults carry ``<detail><message/><code/><source/></detail>`` (zypp's token-invalid fixture).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

TWF = "http://www.twinfield.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


class SoapRequestError(Exception):
    """Not a SOAP request the service understands (a client fault)."""


@dataclass(frozen=True)
class SoapCall:
    version: str  # "1.1" | "1.2"
    operation: str  # local name of the body element, e.g. ProcessXmlString
    header: dict[str, str]  # local name → text of the Header children
    body: ET.Element  # the operation element

    @property
    def envelope_ns(self) -> str:
        return SOAP11 if self.version == "1.1" else SOAP12


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_call(raw: bytes, content_type: str) -> SoapCall:
    if b"<!DOCTYPE" in raw[:2048].upper():
        raise SoapRequestError("DTDs are not allowed")
    try:
        envelope = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise SoapRequestError(f"Invalid XML: {exc}") from None
    if envelope.tag == f"{{{SOAP11}}}Envelope":
        version = "1.1"
    elif envelope.tag == f"{{{SOAP12}}}Envelope":
        version = "1.2"
    else:
        raise SoapRequestError("Not a SOAP envelope")
    ns = SOAP11 if version == "1.1" else SOAP12
    header: dict[str, str] = {}
    soap_header = envelope.find(f"{{{ns}}}Header")
    if soap_header is not None:
        for block in soap_header:
            if local(block.tag) in ("Header", "Authentication"):
                for child in block:
                    header[local(child.tag)] = (child.text or "").strip()
    body = envelope.find(f"{{{ns}}}Body")
    if body is None or len(body) == 0:
        raise SoapRequestError("The SOAP body is empty")
    operation = body[0]
    return SoapCall(version, local(operation.tag), header, operation)


def envelope(version: str, body_xml: str) -> bytes:
    ns = SOAP11 if version == "1.1" else SOAP12
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{body_xml}</soap:Body></soap:Envelope>'
    ).encode()


def fault(version: str, message: str, code: int, source: str, actor: str, *, client: bool = True) -> bytes:
    """A SOAP fault with Twinfield's detail block (zypp fixture: code 354, source ProcessXmlDocument)."""
    detail = f"<message>{escape(message)}</message><code>{code}</code><source>{escape(source)}</source>"
    if version == "1.1":
        body = (
            f"<soap:Fault><faultcode>soap:{'Client' if client else 'Server'}</faultcode>"
            f"<faultstring>{escape(message)}</faultstring><faultactor>{escape(actor)}</faultactor>"
            f"<detail>{detail}</detail></soap:Fault>"
        )
    else:
        body = (
            f"<soap:Fault><soap:Code><soap:Value>soap:{'Sender' if client else 'Receiver'}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{escape(message)}</soap:Text></soap:Reason>'
            f"<soap:Node>{escape(actor)}</soap:Node><soap:Detail>{detail}</soap:Detail></soap:Fault>"
        )
    return envelope(version, body)


def content_type(version: str) -> str:
    return "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml; charset=utf-8"
