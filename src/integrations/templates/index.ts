import { hubspot } from "./hubspot";
import { jiraServiceManagement } from "./jira-service-management";
import { lago } from "./lago";
import { moesif } from "./moesif";
import { salesforce } from "./salesforce";
import { servicenow } from "./servicenow";
import type { Template } from "./template";

/** Every template, billing first (the seed's own use case), then CRM, then ITSM. */
export const templates: readonly Template[] = [lago, moesif, hubspot, salesforce, jiraServiceManagement, servicenow];
