import type { Template } from "./template";

/**
 * Salesforce, CRM: each developer a Contact, upserted by an external ID.
 *
 * API: "Upsert Records Using sObject Rows by External ID",
 * `PATCH /services/data/vXX.X/sobjects/Contact/<external ID field>/<value>` with the
 * fields in the body (not the external ID itself): 201 when created, 200 or 204 when
 * updated, so a repeated delivery updates the same record.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_upsert_patch.htm
 * Auth: the OAuth 2.0 client credentials flow of a connected app (client id and secret in
 * the form, `POST https://<MyDomain>.my.salesforce.com/services/oauth2/token`).
 * https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
 */
export const salesforce: Template = {
  ID: "salesforce",
  Name: "Salesforce: a Contact for each developer",
  Description:
    "Upserts a Salesforce Contact when a developer registers, is activated or deactivated, keyed by the portal user ID in an External ID field Tyk_User_ID__c (create it on Contact, Text, External ID, Unique): Salesforce's upsert by external ID means a repeated delivery updates the same Contact. Replace MyDomainName in the URL and the TokenURL; Auth is the client credentials flow of a connected app (ClientAuth: body).",
  Events: ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated"],
  Method: "PATCH",
  URL: "https://MyDomainName.my.salesforce.example.com/services/data/v62.0/sobjects/Contact/Tyk_User_ID__c/{Message.ID}",
  Transform: {
    Body: `{
  "FirstName": Message.First,
  "LastName": Message.Last ? Message.Last : Message.Email,
  "Email": Message.Email,
  "Description": "Tyk portal user " & $string(Message.ID) & ", organisation " & $string(Message.OrgID) & ", status " & Message.Status
}`,
  },
  Auth: { Type: "oauth2" },
  Headers: [],
};
